import { randomBytes } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { instanceSettings, securityKeys, sessions, signInChallenges, stepUpConfirmations, trustedBrowsers, users, webauthnChallenges } from "@/db/schema";
import { confirmAdmin, type AdminSession } from "@/lib/admin/step-up";
import { completeSignIn, type SecondStepInput, type SecondStepResult } from "@/lib/auth/second-step";
import { sha256Hex } from "@/lib/crypto";
import { removeSecurityKey, renameSecurityKey } from "@/lib/security-keys/manage";
import { finishKeyRegistration, startKeyRegistration } from "@/lib/security-keys/registration";
import { startKeySignIn } from "@/lib/security-keys/sign-in";
import { getSettings } from "@/lib/settings";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, CONTEXT, enrolledUser, eventNamesAbout, newSession, openChallenge, PASSWORD, rawRows, rewindLastUsedStep, userRow, type TestUser } from "./support/fixtures";
import { b64, runAsTestRelyingParty, SoftwareKey, type SoftwareKeyOptions } from "./support/software-key";

/**
 * Red team (redteam-keys), in process against lib/: attacks on the security-key
 * second factor that the browser-facing slice (options action, Trust this
 * browser with a key, My Settings actions) opened, beyond
 * security-keys.security.test.ts. A test that FAILS is a finding.
 */

runAsTestRelyingParty();

const answerOf = (r: SecondStepResult) => (r.ok ? "ok" : r.error);
const sessionsOf = (results: SecondStepResult[]) => results.filter((r) => r.ok).length;

describe.each(testDrivers())("red team (security keys, browser slice) on %s", (driver) => {
  const t = useTestDatabase(driver);

  beforeEach(async () => {
    await getSettings(t.db);
    await t.db.update(instanceSettings).set({ twoFactorEnabled: true, trustBrowserEnabled: true, trustBrowserDays: 30 }).where(eq(instanceSettings.id, 1));
  });

  async function signedInSession(user: { id: string }): Promise<AdminSession> {
    const session = newSession(user);
    await t.db.insert(sessions).values({ sid: session.sessionId, userId: user.id, sessionVersion: 0, expiresAt: sql`now() + interval '1 hour'` });
    return session;
  }

  async function confirmed(user: TestUser & { secret: string }): Promise<AdminSession> {
    const session = await signedInSession(user);
    expect(await confirmAdmin(t.db, session, codeAt(user.secret), CONTEXT)).toBe("ok");
    await rewindLastUsedStep(t.db, user.id);
    return session;
  }

  async function register(user: TestUser & { secret: string }, key: SoftwareKey, session?: AdminSession) {
    const s = session ?? (await confirmed(user));
    const started = await startKeyRegistration(t.db, s);
    if (!started.ok) throw new Error(started.error);
    const finished = await finishKeyRegistration(t.db, s, key.register(started.options), "Key", CONTEXT);
    if (!finished.ok) throw new Error(finished.error);
    return { session: s, id: finished.id };
  }

  async function keyUser(options: SoftwareKeyOptions = {}) {
    const user = await enrolledUser(t.db);
    const key = new SoftwareKey(options);
    const { session, id } = await register(user, key);
    return { user, key, session, keyId: id };
  }

  async function keyPrompt(user: TestUser, token?: string) {
    const challenge = token ?? (await openChallenge(t.db, user));
    const started = await startKeySignIn(t.db, challenge);
    if (!started.ok) throw new Error(started.error);
    return { challenge, options: started.options };
  }

  const finish = (challenge: string, assertion: unknown, extra: Partial<SecondStepInput> = {}) =>
    completeSignIn(t.db, { challenge, method: "security_key", code: "", assertion, ...extra }, CONTEXT);

  const webauthnRowsOf = async (userId: string) => (await t.db.select().from(webauthnChallenges).where(eq(webauthnChallenges.userId, userId))).length;
  const liveWebauthnRowsOf = async (userId: string) =>
    (await t.db.select().from(webauthnChallenges).where(and(eq(webauthnChallenges.userId, userId), sql`${webauthnChallenges.expiresAt} > now()`))).length;
  const trustedOf = async (userId: string) => t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, userId));
  const signInTrusted = async (user: TestUser, token: string) =>
    completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "trusted", code: "", trustToken: token }, CONTEXT);

  // ---------------------------------------------------------------- the options endpoint

  it("options asked with no live sign-in (a random token, an expired, a spent challenge): refused, no WebAuthn challenge written", async () => {
    const { user, key } = await keyUser();
    const before = await webauthnRowsOf(user.id);
    expect(await startKeySignIn(t.db, b64(randomBytes(32)))).toEqual({ ok: false, error: "challenge_expired" });
    expect(await startKeySignIn(t.db, "")).toEqual({ ok: false, error: "challenge_expired" });

    const expired = await openChallenge(t.db, user);
    await t.db.update(signInChallenges).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(signInChallenges.tokenHash, sha256Hex(expired)));
    expect(await startKeySignIn(t.db, expired)).toEqual({ ok: false, error: "challenge_expired" });

    const spent = await keyPrompt(user);
    expect(answerOf(await finish(spent.challenge, key.assert(spent.options)))).toBe("ok");
    const afterSpend = await webauthnRowsOf(user.id);
    expect(await startKeySignIn(t.db, spent.challenge)).toEqual({ ok: false, error: "challenge_expired" });
    expect(await webauthnRowsOf(user.id)).toBe(afterSpend);
    // The expired sign-in's options would be a WebAuthn challenge bound to a dead sign-in: none written.
    expect(await webauthnRowsOf(user.id)).toBeLessThanOrEqual(before);
  });

  it("options asked 40 times one after the other on one sign-in (and 40 Add security key prompts of one session): at most five live WebAuthn challenges each", async () => {
    const { user } = await keyUser();
    const challenge = await openChallenge(t.db, user);
    for (let i = 0; i < 40; i++) await startKeySignIn(t.db, challenge);
    expect(await liveWebauthnRowsOf(user.id)).toBeLessThanOrEqual(5);
    const session = await confirmed(user);
    for (let i = 0; i < 40; i++) await startKeyRegistration(t.db, session);
    expect(await liveWebauthnRowsOf(user.id)).toBeLessThanOrEqual(10);
  });

  // FINDING: the bound is a DELETE of all but the newest four, then an INSERT, in separate statements without a
  // lock: every request of a parallel burst deletes first and inserts after, so a burst of N leaves N live rows.
  it("options flooded: 40 parallel requests on one sign-in leave at most five live WebAuthn challenges, and the sign-in still works", async () => {
    const { user, key } = await keyUser({ counter: null });
    const challenge = await openChallenge(t.db, user);
    const results = await Promise.all(Array.from({ length: 40 }, () => startKeySignIn(t.db, challenge)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await liveWebauthnRowsOf(user.id)).toBeLessThanOrEqual(5);
    const last = await keyPrompt(user, challenge);
    expect(answerOf(await finish(challenge, key.assert(last.options)))).toBe("ok");
  });

  it("registration options flooded: 40 parallel Add security key prompts of one confirmed session leave at most five live challenges", async () => {
    const { user } = await keyUser();
    const session = await confirmed(user);
    const before = await liveWebauthnRowsOf(user.id);
    const results = await Promise.all(Array.from({ length: 40 }, () => startKeyRegistration(t.db, session)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect((await liveWebauthnRowsOf(user.id)) - before).toBeLessThanOrEqual(5);
  });

  // Same root cause as above, per sign-in: 10 parallel prompts on each of 10 sign-ins.
  it("options flooded across sign-ins: 10 password steps × 10 prompts each keep the WebAuthn challenges bounded per sign-in", async () => {
    const { user } = await keyUser();
    const challenges = [];
    for (let i = 0; i < 10; i++) challenges.push(await openChallenge(t.db, user));
    await Promise.all(challenges.flatMap((c) => Array.from({ length: 10 }, () => startKeySignIn(t.db, c))));
    const perSignIn = await rawRows<{ n: number }>(
      t.db,
      sql`select count(*)::int as n from webauthn_challenges where user_id = ${user.id} and purpose = 'sign_in' group by sign_in_challenge_hash`,
    );
    expect(perSignIn).toHaveLength(10);
    for (const row of perSignIn) expect(Number(row.n)).toBeLessThanOrEqual(5);
  });

  // ---------------------------------------------------------------- Trust this browser with a key

  it("Trust this browser with a bad assertion (garbage signature, a stranger's key, a replay of a used one, none): no trust token, no trusted browser", async () => {
    const { user, key } = await keyUser();
    const used = await keyPrompt(user);
    const usedAssertion = key.assert(used.options);
    expect(answerOf(await finish(used.challenge, usedAssertion))).toBe("ok");
    const attempts: ((o: { challenge: string }) => unknown)[] = [(o) => key.assert(o, { garbage: true }), (o) => new SoftwareKey().assert(o), () => usedAssertion, () => undefined];
    for (const make of attempts) {
      const { challenge, options } = await keyPrompt(user);
      const result = await finish(challenge, make(options), { trust: true });
      expect(result.ok).toBe(false);
      expect("trustToken" in result && result.trustToken).toBeFalsy();
    }
    expect(await trustedOf(user.id)).toEqual([]);
  });

  it("one assertion with Trust this browser in a parallel burst (10 on its sign-in, 5 on other sign-ins): at most one session, at most one trusted browser", async () => {
    const { user, key } = await keyUser({ counter: null });
    const { challenge, options } = await keyPrompt(user);
    const assertion = key.assert(options);
    const others = [];
    for (let i = 0; i < 5; i++) others.push((await keyPrompt(user)).challenge);
    const results = await Promise.all([...Array.from({ length: 10 }, () => finish(challenge, assertion, { trust: true })), ...others.map((o) => finish(o, assertion, { trust: true }))]);
    expect(sessionsOf(results)).toBe(1);
    expect(results.filter((r) => r.ok && r.trustToken).length).toBe(1);
    expect(await trustedOf(user.id)).toHaveLength(1);
  });

  it("Trust this browser with a key while the instance does not allow trusted browsers: a session, but no trust token and no trusted browser", async () => {
    const { user, key } = await keyUser();
    await t.db.update(instanceSettings).set({ trustBrowserEnabled: false }).where(eq(instanceSettings.id, 1));
    const { challenge, options } = await keyPrompt(user);
    const result = await finish(challenge, key.assert(options), { trust: true });
    expect(result.ok).toBe(true);
    expect(result.ok && result.trustToken).toBeFalsy();
    expect(await trustedOf(user.id)).toEqual([]);
  });

  /**
   * A password holder who had the owner's key in hand for a minute (borrowed, stolen, a
   * shared desk) signs in with it and ticks Trust this browser. The owner notices the key
   * is gone and removes it in My Settings. Every other way a factor is withdrawn (a
   * recovery code, Disable, re-enrolment, admin, password change) revokes the trusted
   * browsers; a key's removal should too, or the thief keeps skipping the second step
   * for 30 days with the password alone.
   */
  it("a browser trusted with a key, the key then removed by its owner: that browser no longer skips the second step", async () => {
    const { user, key, keyId } = await keyUser();
    const { challenge, options } = await keyPrompt(user);
    const signedIn = await finish(challenge, key.assert(options), { trust: true });
    expect(signedIn.ok && signedIn.trustToken).toBeTruthy();
    const token = (signedIn as { trustToken: string }).trustToken;
    const owner = await confirmed(user);
    expect(await removeSecurityKey(t.db, owner, keyId, CONTEXT)).toEqual({ ok: true, twoFactorOff: null });
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.userId, user.id))).toEqual([]);
    const result = await signInTrusted(user, token);
    expect(answerOf(result), "the thief's browser trusted with the removed key still skips the second step").not.toBe("ok");
  });

  // ---------------------------------------------------------------- lockout

  it("failed assertions of every shape are counted (no assertion, a string, an unknown credential, a challenge never issued, a signed stale one): 5 → locked", async () => {
    const { user, key } = await keyUser();
    const challenge = await openChallenge(t.db, user);
    const stale = await keyPrompt(user);
    const staleAssertion = key.assert(stale.options);
    const other = await keyPrompt(user); // a second sign-in: the stale one is not this sign-in's either
    void other;
    const bad: ((o: { challenge: string }) => unknown)[] = [
      () => undefined,
      () => "not an assertion",
      (o) => ({ ...key.assert(o), id: b64(randomBytes(16)), rawId: b64(randomBytes(16)) }),
      () => key.assert({ challenge: b64(randomBytes(32)) }),
      () => staleAssertion,
    ];
    for (const [i, make] of bad.entries()) {
      const { options } = await keyPrompt(user, challenge);
      const answer = answerOf(await finish(challenge, make(options)));
      if (i < 4) {
        expect(answer, `attempt ${i + 1}`).toBe("key_invalid");
        expect((await userRow(t.db, user.id)).secondFactorFailures, `failures counted after attempt ${i + 1}`).toBe(i + 1);
      } else expect(answer, "the fifth failure starts the lock").toBe("locked_out");
    }
    expect((await userRow(t.db, user.id)).secondFactorLockedUntil).not.toBeNull();
    const good = await keyPrompt(user, challenge);
    expect(answerOf(await finish(challenge, key.assert(good.options)))).toBe("locked_out");
  });

  it("4 earlier failures, then a parallel burst of 20 bad assertions and the good one on 21 prompts: one attempt left is all the burst gets", async () => {
    const { user, key } = await keyUser({ counter: null });
    const challenge = await openChallenge(t.db, user);
    for (let i = 0; i < 4; i++) {
      const { options } = await keyPrompt(user, challenge);
      expect(answerOf(await finish(challenge, key.assert(options, { garbage: true })))).toBe("key_invalid");
    }
    const prompts = [];
    for (let i = 0; i < 21; i++) prompts.push(await keyPrompt(user, challenge));
    const refusedBefore = (await eventNamesAbout(t.db, user.id)).filter((e) => e === "security_key.refused").length;
    const results = await Promise.all(prompts.map((p, i) => finish(challenge, i === 20 ? key.assert(p.options) : key.assert(p.options, { garbage: true }))));
    const refusedAfter = (await eventNamesAbout(t.db, user.id)).filter((e) => e === "security_key.refused").length;
    expect(sessionsOf(results)).toBeLessThanOrEqual(1);
    expect(refusedAfter - refusedBefore + sessionsOf(results), "attempts judged in the burst").toBeLessThanOrEqual(1);
    // The prompts themselves: 21 on one sign-in, not 21 live challenges.
    expect(await liveWebauthnRowsOf(user.id)).toBeLessThanOrEqual(5);
  });

  // ---------------------------------------------------------------- confirmation and registration

  it("a password holder riding a stolen session confirms Add security key with the password instead of a code: refused, no key added", async () => {
    const { user } = await keyUser();
    const stolen = await signedInSession(user);
    expect(await confirmAdmin(t.db, stolen, PASSWORD, CONTEXT)).not.toBe("ok");
    const started = await startKeyRegistration(t.db, stolen);
    expect(started.ok).toBe(false);
    const keys = await t.db.select().from(securityKeys).where(eq(securityKeys.userId, user.id));
    expect(keys).toHaveLength(1);
  });

  it("the confirmation lapses between the prompt and Save (5 minutes): refused, nothing stored, the challenge not left usable", async () => {
    const { user } = await keyUser();
    const session = await confirmed(user);
    const started = await startKeyRegistration(t.db, session);
    if (!started.ok) throw new Error(started.error);
    await t.db.update(stepUpConfirmations).set({ confirmedAt: sql`now() - interval '301 seconds'` }).where(eq(stepUpConfirmations.sessionId, session.sessionId));
    const attacker = new SoftwareKey();
    const answer = attacker.register(started.options);
    const result = await finishKeyRegistration(t.db, session, answer, "Late", CONTEXT);
    expect(result.ok).toBe(false);
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.userId, user.id))).toHaveLength(1);
  });

  it("a registration answer from one user's prompt saved by another user's confirmed session: refused, nothing stored for either", async () => {
    const a = await keyUser();
    const b = await keyUser();
    const sessionA = await confirmed(a.user);
    const sessionB = await confirmed(b.user);
    const started = await startKeyRegistration(t.db, sessionA);
    if (!started.ok) throw new Error(started.error);
    const answer = new SoftwareKey().register(started.options);
    const result = await finishKeyRegistration(t.db, sessionB, answer, "Stolen prompt", CONTEXT);
    expect(result.ok).toBe(false);
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.userId, b.user.id))).toHaveLength(1);
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.userId, a.user.id))).toHaveLength(1);
  });

  it("another user renames and removes a key by its id (with a confirmed session of their own): nothing changes, nothing audited on the owner", async () => {
    const victim = await keyUser();
    const attacker = await keyUser();
    const session = await confirmed(attacker.user);
    expect(await renameSecurityKey(t.db, attacker.user.id, victim.keyId, "pwned", CONTEXT)).toBe(false);
    expect(await removeSecurityKey(t.db, session, victim.keyId, CONTEXT)).toEqual({ ok: false, error: "not_found" });
    // The attacker's session id with the victim's user id (a forged session object): the confirmation is the attacker's.
    expect((await removeSecurityKey(t.db, { id: victim.user.id, sessionId: session.sessionId }, victim.keyId, CONTEXT)).ok).toBe(false);
    const [row] = await t.db.select().from(securityKeys).where(eq(securityKeys.id, victim.keyId));
    expect(row?.name).toBe("Key");
    const events = await eventNamesAbout(t.db, victim.user.id);
    expect(events).not.toContain("security_key.renamed");
    expect(events).not.toContain("security_key.removed");
  });

  it("a removed key's assertion at a later sign-in (the user's other key left): refused", async () => {
    const { user, key, session } = await keyUser();
    const second = new SoftwareKey();
    const { id: secondId } = await register(user, second, session);
    expect(await removeSecurityKey(t.db, session, secondId, CONTEXT)).toEqual({ ok: true, twoFactorOff: null });
    const { challenge, options } = await keyPrompt(user);
    expect(options.allowCredentials?.map((c) => c.id)).toEqual([key.id]);
    expect(answerOf(await finish(challenge, second.assert(options)))).toBe("key_invalid");
    const again = await keyPrompt(user, challenge);
    expect(answerOf(await finish(challenge, key.assert(again.options)))).toBe("ok");
  });

  it("the same credential re-registered by its owner after removal, then the old (higher) counter replayed: refused", async () => {
    // A device-bound key removed and added again must not reset what a clone can claim:
    // here only that the key works again and a replayed old assertion does not.
    const { user, key, session, keyId } = await keyUser({ counter: 10 });
    const first = await keyPrompt(user);
    const old = key.assert(first.options);
    expect(answerOf(await finish(first.challenge, old))).toBe("ok");
    expect(await removeSecurityKey(t.db, session, keyId, CONTEXT)).toEqual({ ok: true, twoFactorOff: null });
    await register(user, key, session);
    const { challenge } = await keyPrompt(user);
    expect(answerOf(await finish(challenge, old))).toBe("key_invalid");
    const fresh = await keyPrompt(user, challenge);
    expect(answerOf(await finish(challenge, key.assert(fresh.options)))).toBe("ok");
    expect((await t.db.select().from(users).where(eq(users.id, user.id)))[0].secondFactorFailures).toBe(0);
  });
});
