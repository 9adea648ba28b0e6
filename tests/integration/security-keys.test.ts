import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { instanceSettings, securityKeys, sessions, signInChallenges, trustedBrowsers, webauthnChallenges } from "@/db/schema";
import { confirmAdmin, type AdminSession } from "@/lib/admin/step-up";
import { completeSignIn } from "@/lib/auth/second-step";
import { sweepExpired } from "@/lib/maintenance";
import { getSettings } from "@/lib/settings";
import { listSecurityKeys, removeSecurityKey, renameSecurityKey } from "@/lib/security-keys/manage";
import { finishKeyRegistration, startKeyRegistration } from "@/lib/security-keys/registration";
import { startKeySignIn } from "@/lib/security-keys/sign-in";
import { removeTwoFactor } from "@/lib/two-factor/enrollment";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, CONTEXT, enrolledUser, eventNamesAbout, newSession, newUser, openChallenge, rewindLastUsedStep, type EnrolledUser } from "./support/fixtures";
import { softwareKey, runAsTestRelyingParty, type SoftwareKey } from "./support/software-key";

runAsTestRelyingParty();

describe.each(testDrivers())("security keys on %s", (driver) => {
  const t = useTestDatabase(driver);

  /** A session of the user that confirmed with a current code just now (as Add security key asks). */
  async function confirmed(user: EnrolledUser): Promise<AdminSession> {
    const session = await signedInSession(user);
    expect(await confirmAdmin(t.db, session, codeAt(user.secret), CONTEXT)).toBe("ok");
    await rewindLastUsedStep(t.db, user.id);
    return session;
  }

  /** A session row, as the second step writes one (a registration challenge belongs to it). */
  async function signedInSession(user: EnrolledUser): Promise<AdminSession> {
    const session = newSession(user);
    await t.db.insert(sessions).values({ sid: session.sessionId, userId: user.id, sessionVersion: 0, expiresAt: sql`now() + interval '1 hour'` });
    return session;
  }

  async function registered(user: EnrolledUser, key = softwareKey(), name = "YubiKey") {
    const session = await confirmed(user);
    const started = await startKeyRegistration(t.db, session);
    if (!started.ok) throw new Error(started.error);
    const finished = await finishKeyRegistration(t.db, session, key.register(started.options), name, CONTEXT);
    if (!finished.ok) throw new Error(finished.error);
    return { key, session, id: finished.id };
  }

  async function signInWithKey(user: EnrolledUser, key: SoftwareKey, challenge?: string) {
    const token = challenge ?? (await openChallenge(t.db, user));
    const started = await startKeySignIn(t.db, token);
    if (!started.ok) throw new Error(started.error);
    return completeSignIn(t.db, { challenge: token, method: "security_key", code: "", assertion: key.assert(started.options) }, CONTEXT);
  }

  it("registration offers only this user's keys to exclude, prefers a discoverable credential and user verification, and stores the key", async () => {
    const user = await enrolledUser(t.db);
    const { key } = await registered(user);
    const session = await confirmed(user);
    const again = await startKeyRegistration(t.db, session);
    if (!again.ok) throw new Error(again.error);
    expect(again.options.rp.id).toBe("localhost");
    expect(again.options.excludeCredentials?.map((c) => c.id)).toEqual([key.id]);
    expect(again.options.authenticatorSelection).toMatchObject({ residentKey: "preferred", userVerification: "preferred" });
    expect(again.options.attestation).toBe("none");
    const [row] = await t.db.select().from(securityKeys).where(eq(securityKeys.userId, user.id));
    expect(row).toMatchObject({ credentialId: key.id, name: "YubiKey", deviceType: "singleDevice", backedUp: false, userVerified: true, discoverable: false });
    expect(await eventNamesAbout(t.db, user.id)).toContain("security_key.added");
  });

  it("a key signs in at the second step, once per sign-in; its counter and last use are kept", async () => {
    const user = await enrolledUser(t.db);
    const { key } = await registered(user);
    const result = await signInWithKey(user, key);
    expect(result).toMatchObject({ ok: true, user: { id: user.id } });
    const [row] = await t.db.select().from(securityKeys).where(eq(securityKeys.userId, user.id));
    expect(row.counter).toBe(2);
    expect(row.lastUsedAt).not.toBeNull();
    expect(await eventNamesAbout(t.db, user.id)).toEqual(expect.arrayContaining(["security_key.used", "sign_in.succeeded"]));
    expect((await signInWithKey(user, key)).ok).toBe(true);
  });

  it("a key without user verification, a synced passkey and a key that keeps no counter are each a second factor", async () => {
    for (const options of [{ userVerified: false }, { synced: true, counter: null, discoverable: true }, { counter: null }]) {
      const user = await enrolledUser(t.db);
      const { key } = await registered(user, softwareKey(options));
      expect((await signInWithKey(user, key)).ok, JSON.stringify(options)).toBe(true);
      expect((await signInWithKey(user, key)).ok, JSON.stringify(options)).toBe(true);
    }
  });

  it("the key list says synced or this device only, and which keys could sign in alone; rename and remove are the owner's", async () => {
    const user = await enrolledUser(t.db);
    const { id, session } = await registered(user, softwareKey({ synced: true, counter: null, discoverable: true }), "Phone passkey");
    expect(await listSecurityKeys(t.db, user.id)).toEqual([expect.objectContaining({ id, name: "Phone passkey", synced: true, passkey: true, lastUsedAt: null })]);
    const stranger = await newUser(t.db);
    expect(await renameSecurityKey(t.db, stranger.id, id, "Mine now", CONTEXT)).toBe(false);
    expect(await renameSecurityKey(t.db, user.id, id, "Pixel", CONTEXT)).toBe(true);
    expect((await listSecurityKeys(t.db, user.id))[0].name).toBe("Pixel");
    expect(await removeSecurityKey(t.db, { id: stranger.id, sessionId: session.sessionId }, id, CONTEXT)).toMatchObject({ ok: false });
    expect(await removeSecurityKey(t.db, newSession(user), id, CONTEXT)).toMatchObject({ ok: false, error: "confirmation_required", method: "code" });
    expect(await listSecurityKeys(t.db, user.id)).toHaveLength(1);
    expect(await removeSecurityKey(t.db, session, id, CONTEXT)).toEqual({ ok: true, twoFactorOff: null });
    expect(await listSecurityKeys(t.db, user.id)).toEqual([]);
    expect(await eventNamesAbout(t.db, user.id)).toEqual(expect.arrayContaining(["security_key.renamed", "security_key.removed"]));
  });

  it("adding or removing a key ends the user's pending sign-ins; removing 2FA removes the keys", async () => {
    const user = await enrolledUser(t.db);
    const pending = await openChallenge(t.db, user);
    const { id, session } = await registered(user);
    expect(await t.db.select().from(signInChallenges).where(eq(signInChallenges.userId, user.id))).toEqual([]);
    expect((await completeSignIn(t.db, { challenge: pending, method: "totp", code: codeAt(user.secret) }, CONTEXT)).ok).toBe(false);
    await openChallenge(t.db, user);
    expect(await removeSecurityKey(t.db, session, id, CONTEXT)).toEqual({ ok: true, twoFactorOff: null });
    expect(await t.db.select().from(signInChallenges).where(eq(signInChallenges.userId, user.id))).toEqual([]);
    await registered(user);
    await removeTwoFactor(t.db, user.id);
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.userId, user.id))).toEqual([]);
  });

  it("Use security key with no key registered says so, and the sweep deletes expired WebAuthn challenges", async () => {
    const user = await enrolledUser(t.db);
    expect(await startKeySignIn(t.db, await openChallenge(t.db, user))).toEqual({ ok: false, error: "no_keys" });
    expect(await startKeySignIn(t.db, "not-a-challenge")).toEqual({ ok: false, error: "challenge_expired" });
    const { key } = await registered(user);
    await startKeySignIn(t.db, await openChallenge(t.db, user));
    expect((await sweepExpired(t.db)).webauthnChallenges).toBe(0);
    expect((await signInWithKey(user, key)).ok).toBe(true);
  });

  it("Trust this browser with a key: one trusted browser, issued with the key's use; none when the instance does not allow it", async () => {
    const user = await enrolledUser(t.db);
    const { key } = await registered(user);
    const withTrust = async () => {
      const token = await openChallenge(t.db, user);
      const started = await startKeySignIn(t.db, token);
      if (!started.ok) throw new Error(started.error);
      return completeSignIn(t.db, { challenge: token, method: "security_key", code: "", trust: true, assertion: key.assert(started.options) }, CONTEXT);
    };
    const refused = await withTrust();
    expect(refused.ok && refused.trustToken).toBeFalsy();
    expect(await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, user.id))).toEqual([]);
    await getSettings(t.db);
    await t.db.update(instanceSettings).set({ trustBrowserEnabled: true }).where(eq(instanceSettings.id, 1));
    try {
      const trusted = await withTrust();
      expect(trusted.ok && trusted.trustToken).toBeTruthy();
      expect(await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, user.id))).toHaveLength(1);
    } finally {
      await t.db.update(instanceSettings).set({ trustBrowserEnabled: false }).where(eq(instanceSettings.id, 1));
    }
  });

  it("asking for the prompt again and again keeps at most five live challenges per sign-in, the newest; an older one is refused", async () => {
    const user = await enrolledUser(t.db);
    const { key } = await registered(user);
    const token = await openChallenge(t.db, user);
    const prompts = [];
    for (let i = 0; i < 8; i++) {
      const started = await startKeySignIn(t.db, token);
      if (!started.ok) throw new Error(started.error);
      prompts.push(started.options);
    }
    const live = await t.db.select().from(webauthnChallenges).where(eq(webauthnChallenges.userId, user.id));
    expect(live.map((row) => row.challenge).sort()).toEqual(prompts.slice(-5).map((options) => options.challenge).sort());
    const old = await completeSignIn(t.db, { challenge: token, method: "security_key", code: "", assertion: key.assert(prompts[0]) }, CONTEXT);
    expect(old).toEqual({ ok: false, error: "key_invalid" });
    const newest = await completeSignIn(t.db, { challenge: token, method: "security_key", code: "", assertion: key.assert(prompts[7]) }, CONTEXT);
    expect(newest.ok).toBe(true);
  });
});
