import { and, eq, isNull, sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { instanceSettings, recoveryCodes, securityKeys, sessions, stepUpConfirmations, users, webauthnChallenges } from "@/db/schema";
import { removeUserSecurityKeys } from "@/lib/admin/remove-user-keys";
import { confirmAdmin, isRecentlyConfirmed, stepUpMethod, type AdminSession } from "@/lib/admin/step-up";
import { completeSignIn, type SecondStepInput, type SecondStepResult } from "@/lib/auth/second-step";
import { passwordStep } from "@/lib/auth/sign-in";
import { removeSecurityKey } from "@/lib/security-keys/manage";
import { completePasskeySignIn, startPasskeySignIn } from "@/lib/security-keys/passkey-sign-in";
import { finishKeyRegistration, startKeyRegistration } from "@/lib/security-keys/registration";
import { startKeySignIn } from "@/lib/security-keys/sign-in";
import { confirmWithKey, startKeyConfirmation } from "@/lib/security-keys/step-up";
import { getSettings } from "@/lib/settings";
import { confirmEnrollment, removeTwoFactor, startEnrollment } from "@/lib/two-factor/enrollment";
import { disableTwoFactor, disableTwoFactorConfirmed, regenerateRecoveryCodes, regenerateRecoveryCodesConfirmed } from "@/lib/two-factor/manage";
import { startSignInEnrollment } from "@/lib/two-factor/sign-in-enrollment";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, confirmedSession, CONTEXT, enrolledUser, eventNamesAbout, newUser, openChallenge, PASSWORD, userRow, type TestUser } from "./support/fixtures";
import { addKey, liveSession } from "./support/security-keys";
import { runAsTestRelyingParty, SoftwareKey, type SoftwareKeyOptions } from "./support/software-key";

/**
 * Red team (redteam-passkey), in process against lib/: attacks on Sign in with
 * a passkey and on a security key as the only second factor (key-only users:
 * 2FA on by the first key, off with the last, step-up with a key assertion,
 * admin removal). Each test is named by its attack; a test that FAILS is a finding.
 */

runAsTestRelyingParty();

const PASSKEY: SoftwareKeyOptions = { discoverable: true, userVerified: true };
const answerOf = (r: SecondStepResult) => (r.ok ? "ok" : r.error);
const succeeded = (r: unknown) => typeof r === "object" && r !== null && (r as { ok?: unknown }).ok === true;
/** The promise's value, or "threw: <message>" (a deadlock, an exception: what the action would answer with a 500). */
const settled = <T>(p: Promise<T>): Promise<T | string> => p.catch((e: unknown) => `threw: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);

describe.each(testDrivers())("red team (passkey sign-in, key-only users) on %s", (driver) => {
  const t = useTestDatabase(driver);

  beforeEach(async () => {
    await getSettings(t.db);
    await t.db
      .update(instanceSettings)
      .set({ twoFactorEnabled: true, passkeySignInEnabled: true, trustBrowserEnabled: true, trustBrowserDays: 30, requireTwoFactorFor: "nobody", requireGraceDays: 0, requireSince: null, requireEveryoneSince: null })
      .where(eq(instanceSettings.id, 1));
  });

  async function passkeyPrompt() {
    const started = await startPasskeySignIn(t.db, CONTEXT);
    if (!started.ok) throw new Error(started.error);
    return started;
  }

  async function keyPrompt(user: TestUser, token?: string) {
    const challenge = token ?? (await openChallenge(t.db, user));
    const started = await startKeySignIn(t.db, challenge);
    if (!started.ok) throw new Error(started.error);
    return { challenge, options: started.options };
  }

  const finishWithKey = (challenge: string, assertion: unknown, extra: Partial<SecondStepInput> = {}) =>
    completeSignIn(t.db, { challenge, method: "security_key", code: "", assertion, ...extra }, CONTEXT);

  /** A live session of the user that has confirmed just now with the key (the key-only user's step-up). */
  async function keyConfirmed(user: TestUser, key: SoftwareKey): Promise<AdminSession> {
    const session = await liveSession(t.db, user);
    const started = await startKeyConfirmation(t.db, session);
    if (!started.ok) throw new Error(started.error);
    expect(await confirmWithKey(t.db, session, key.assert(started.options), CONTEXT)).toBe("ok");
    return session;
  }

  async function stepUpOptions(session: AdminSession) {
    const started = await startKeyConfirmation(t.db, session);
    if (!started.ok) throw new Error(started.error);
    return started.options;
  }

  const liveRecoveryCodes = async (userId: string) =>
    (await t.db.select().from(recoveryCodes).where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)))).length;
  const keysOf = async (userId: string) => (await t.db.select().from(securityKeys).where(eq(securityKeys.userId, userId))).length;
  const sessionVersionOf = async (userId: string) => (await userRow(t.db, userId)).sessionVersion;

  async function confirmedAdmin() {
    const admin = await newUser(t.db, { admin: true });
    return { admin, session: await confirmedSession(t.db, admin) };
  }

  /** Signs in with a recovery code at a fresh password step: did that code work? */
  async function recoveryCodeWorks(user: TestUser, code: string): Promise<boolean> {
    const challenge = await openChallenge(t.db, user);
    return (await completeSignIn(t.db, { challenge, method: "recovery", code }, CONTEXT)).ok;
  }

  // ================================================================ passkey sign-in

  it("passkey sign-in with a discoverable passkey answering WITHOUT a user handle (WebAuthn L3 §7.2 step 6: required when nobody was identified): refused", async () => {
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user, PASSKEY);
    const { challenge, options } = await passkeyPrompt();
    const answer = await completePasskeySignIn(t.db, { challenge, assertion: key.assert(options, { userHandle: null }) }, CONTEXT);
    expect(answer.ok).toBe(false);
    expect(await eventNamesAbout(t.db, user.id)).not.toContain("sign_in.succeeded");
  });

  it("passkey sign-in over challenges of other purposes (a session's step_up and register challenges, a pending sign-in's sign_in challenge) put in the passkey cookie: refused", async () => {
    const user = await newUser(t.db);
    const { key, session } = await addKey(t.db, user, PASSKEY);
    const stepUp = await stepUpOptions(session);
    expect(await completePasskeySignIn(t.db, { challenge: stepUp.challenge, assertion: key.assert(stepUp) }, CONTEXT)).toMatchObject({ ok: false });
    const confirmed = await keyConfirmed(user, key);
    const register = await startKeyRegistration(t.db, confirmed);
    if (!register.ok) throw new Error(register.error);
    expect(await completePasskeySignIn(t.db, { challenge: register.options.challenge, assertion: key.assert({ challenge: register.options.challenge }) }, CONTEXT)).toMatchObject({ ok: false });
    const { options } = await keyPrompt(user);
    expect(await completePasskeySignIn(t.db, { challenge: options.challenge, assertion: key.assert(options) }, CONTEXT)).toMatchObject({ ok: false });
    expect(await eventNamesAbout(t.db, user.id)).not.toContain("sign_in.succeeded");
  });

  it("a passkey sign-in challenge (no user, from the login page) used as a step-up confirmation of a stolen session and at a pending sign-in's second step: refused", async () => {
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user, PASSKEY);
    const session = await liveSession(t.db, user);
    const prompt = await passkeyPrompt();
    expect(await confirmWithKey(t.db, session, key.assert(prompt.options), CONTEXT)).toBe("invalid");
    expect(await isRecentlyConfirmed(t.db, session)).toBe(false);
    const second = await passkeyPrompt();
    const pending = await openChallenge(t.db, user);
    expect(answerOf(await finishWithKey(pending, key.assert(second.options)))).not.toBe("ok");
  });

  it("passkey sign-in with forged flags or signatures (UP off, garbage signature, another passkey's private key, a counter gone backwards): refused, no session", async () => {
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user, PASSKEY);
    const stranger = new SoftwareKey(PASSKEY);
    for (const forged of [{ userPresent: false }, { garbage: true }, { signer: stranger }, { counter: 0 }]) {
      const { challenge, options } = await passkeyPrompt();
      expect(await completePasskeySignIn(t.db, { challenge, assertion: key.assert(options, forged) }, CONTEXT)).toMatchObject({ ok: false });
    }
    expect(await eventNamesAbout(t.db, user.id)).not.toContain("sign_in.succeeded");
  });

  it("one passkey challenge raced by two users' passkeys in parallel (10 each): at most one session over it", async () => {
    const [a, b] = [await newUser(t.db), await newUser(t.db)];
    const { key: keyA } = await addKey(t.db, a, { ...PASSKEY, counter: null });
    const { key: keyB } = await addKey(t.db, b, { ...PASSKEY, counter: null });
    const { challenge, options } = await passkeyPrompt();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => completePasskeySignIn(t.db, { challenge, assertion: (i % 2 ? keyA : keyB).assert(options) }, CONTEXT)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it("a passkey challenge answered after its 5 minutes: refused", async () => {
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user, PASSKEY);
    const { challenge, options } = await passkeyPrompt();
    await t.db.update(webauthnChallenges).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(webauthnChallenges.purpose, "passkey"));
    expect(await completePasskeySignIn(t.db, { challenge, assertion: key.assert(options) }, CONTEXT)).toMatchObject({ ok: false });
  });

  it("the admin removes the user's passkeys (Remove all, and reset-2fa) between the prompt and the assertion: refused", async () => {
    const { session: adminSession } = await confirmedAdmin();
    for (const removal of ["admin", "reset"] as const) {
      const user = await newUser(t.db);
      const { key } = await addKey(t.db, user, PASSKEY);
      const { challenge, options } = await passkeyPrompt();
      if (removal === "admin") expect(await removeUserSecurityKeys(t.db, adminSession, user.id, "all", CONTEXT)).toMatchObject({ ok: true, twoFactorOff: true });
      else await t.db.transaction((tx) => removeTwoFactor(tx, user.id));
      expect(await completePasskeySignIn(t.db, { challenge, assertion: key.assert(options) }, CONTEXT)).toMatchObject({ ok: false });
    }
  });

  it("sign out everywhere mid-ceremony: the passkey's session carries the account's current session version (never one the change ended, never one ahead)", async () => {
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user, PASSKEY);
    const { challenge, options } = await passkeyPrompt();
    await t.db.update(users).set({ sessionVersion: sql`${users.sessionVersion} + 1` }).where(eq(users.id, user.id));
    const result = await completePasskeySignIn(t.db, { challenge, assertion: key.assert(options) }, CONTEXT);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.user.sessionVersion).toBe(await sessionVersionOf(user.id));
  });

  it("race: the owner removes their last passkey while a passkey sign-in with it finishes (5 rounds): no live session for the removed factor", async () => {
    for (let round = 0; round < 5; round++) {
      const user = await newUser(t.db);
      const { key, id } = await addKey(t.db, user, { ...PASSKEY, counter: null });
      const owner = await keyConfirmed(user, key);
      const { challenge, options } = await passkeyPrompt();
      const assertion = key.assert(options);
      const [signIn, removal] = await Promise.all([
        completePasskeySignIn(t.db, { challenge, assertion }, CONTEXT),
        removeSecurityKey(t.db, owner, id, CONTEXT),
      ]);
      expect(removal).toMatchObject({ ok: true });
      expect(await keysOf(user.id)).toBe(0);
      // A session issued by the sign-in must have been ended by the removal of the last factor.
      if (signIn.ok) expect(signIn.user.sessionVersion).toBeLessThan(await sessionVersionOf(user.id));
    }
  });

  it("race: the admin removes all of a user's passkeys while a passkey sign-in finishes (5 rounds): no live session for the removed factor", async () => {
    const { session: adminSession } = await confirmedAdmin();
    for (let round = 0; round < 5; round++) {
      const user = await newUser(t.db);
      const { key } = await addKey(t.db, user, { ...PASSKEY, counter: null });
      const { challenge, options } = await passkeyPrompt();
      const [signIn, removal] = await Promise.all([
        completePasskeySignIn(t.db, { challenge, assertion: key.assert(options) }, CONTEXT),
        removeUserSecurityKeys(t.db, adminSession, user.id, "all", CONTEXT),
      ]);
      expect(removal).toMatchObject({ ok: true, twoFactorOff: true });
      if (signIn.ok) expect(signIn.user.sessionVersion).toBeLessThan(await sessionVersionOf(user.id));
    }
  });

  // ================================================================ key-only users at sign-in

  it("a key-only user's password holder finishes with \"enrolled\", \"trusted\" (no token, and another user's valid trust token) or a recovery code already used: refused", async () => {
    const user = await newUser(t.db);
    const { recoveryCodes: codes } = await addKey(t.db, user);
    const other = await enrolledUser(t.db);
    const otherChallenge = await openChallenge(t.db, other);
    const trusted = await completeSignIn(t.db, { challenge: otherChallenge, method: "totp", code: codeAt(other.secret), trust: true }, CONTEXT);
    if (!trusted.ok || !trusted.trustToken) throw new Error("no trust token for the other user");
    for (const input of [
      { method: "enrolled", code: "" },
      { method: "trusted", code: "", trustToken: "" },
      { method: "trusted", code: "", trustToken: trusted.trustToken },
      { method: "none", code: "" },
    ] as const) {
      const challenge = await openChallenge(t.db, user);
      expect(answerOf(await completeSignIn(t.db, { challenge, ...input }, CONTEXT))).not.toBe("ok");
    }
    expect(await recoveryCodeWorks(user, codes[0])).toBe(true);
    expect(await recoveryCodeWorks(user, codes[0])).toBe(false);
    expect((await eventNamesAbout(t.db, user.id)).filter((e) => e === "sign_in.succeeded")).toHaveLength(1);
  });

  it("enforcement (2FA required for everyone, grace over) on a key-only user: no enrollment due, so a password holder cannot enrol their own authenticator app at sign-in", async () => {
    await t.db
      .update(instanceSettings)
      .set({ requireTwoFactorFor: "everyone", requireGraceDays: 0, requireSince: sql`now() - interval '10 days'`, requireEveryoneSince: sql`now() - interval '10 days'` })
      .where(eq(instanceSettings.id, 1));
    const user = await newUser(t.db);
    await addKey(t.db, user);
    const step = await passwordStep(t.db, { email: user.email, password: PASSWORD }, CONTEXT);
    expect(step).toMatchObject({ ok: true, secondFactorDue: true, enrollmentDue: false, factors: { totp: false, keys: true } });
    if (!step.ok) return;
    expect(await startSignInEnrollment(t.db, step.challenge)).toMatchObject({ ok: false });
    expect(answerOf(await completeSignIn(t.db, { challenge: step.challenge, method: "enrolled", code: "" }, CONTEXT))).not.toBe("ok");
  });

  it("an admin requires 2FA of a key-only user (twoFactorRequired, also for an administrator with a key only): no enrollment due, no sign-in with the password alone", async () => {
    for (const admin of [false, true]) {
      const user = await newUser(t.db, { admin });
      await addKey(t.db, user);
      await t.db.update(users).set({ twoFactorRequired: true }).where(eq(users.id, user.id));
      if (admin) await t.db.update(instanceSettings).set({ requireTwoFactorFor: "admins", requireSince: sql`now() - interval '10 days'` }).where(eq(instanceSettings.id, 1));
      const step = await passwordStep(t.db, { email: user.email, password: PASSWORD }, CONTEXT);
      expect(step).toMatchObject({ ok: true, secondFactorDue: true, enrollmentDue: false });
      if (!step.ok) return;
      expect(await startSignInEnrollment(t.db, step.challenge)).toMatchObject({ ok: false });
      for (const method of ["none", "enrolled"] as const) {
        const challenge = await openChallenge(t.db, user);
        expect(answerOf(await completeSignIn(t.db, { challenge, method, code: "" }, CONTEXT))).not.toBe("ok");
      }
    }
  });

  it("a session thief of a key-only user enrols their own authenticator app in My Settings without a key confirmation (a new factor and a fresh set of recovery codes): refused", async () => {
    const user = await newUser(t.db);
    const { recoveryCodes: ownerCodes } = await addKey(t.db, user);
    const versionBefore = await sessionVersionOf(user.id);
    // The thief's session has confirmed nothing: startEnrollment/confirmEnrollment is what My Settings' Enable calls.
    const started = await startEnrollment(t.db, user);
    let gotCodes: string[] = [];
    if (started.ok) {
      const confirmed = await confirmEnrollment(t.db, user.id, codeAt(started.secret), CONTEXT);
      if (confirmed.ok) gotCodes = confirmed.recoveryCodes;
    }
    // What it costs the owner when it is not refused (soft: all are reported).
    expect.soft(await stepUpMethod(t.db, user.id), "the thief's app became the confirmation method").toBe("key");
    expect.soft(await sessionVersionOf(user.id), "the owner's sessions were ended by the thief").toBe(versionBefore);
    expect.soft(await recoveryCodeWorks(user, ownerCodes[0]), "the owner's recovery codes still work").toBe(true);
    expect(gotCodes).toEqual([]);
  });

  it("chain: a session thief of a key-only user enrols an authenticator app unconfirmed, then confirms with its code and removes the owner's key (account taken over without the key)", async () => {
    const user = await newUser(t.db);
    const { id: ownerKeyId } = await addKey(t.db, user);
    const thief = await liveSession(t.db, user);
    const started = await startEnrollment(t.db, user);
    let removed = false;
    if (started.ok && (await confirmEnrollment(t.db, user.id, codeAt(started.secret, -1), CONTEXT)).ok) {
      if ((await confirmAdmin(t.db, thief, codeAt(started.secret), CONTEXT)) === "ok") {
        removed = (await removeSecurityKey(t.db, thief, ownerKeyId, CONTEXT)).ok;
      }
    }
    expect(removed).toBe(false);
    expect(await keysOf(user.id)).toBe(1);
  });

  it("control for the thief finding: a session thief of an authenticator-app user starting a second enrollment in My Settings: refused", async () => {
    const user = await enrolledUser(t.db);
    expect(await startEnrollment(t.db, user)).toMatchObject({ ok: false });
    expect(await confirmEnrollment(t.db, user.id, codeAt(user.secret), CONTEXT)).toMatchObject({ ok: false });
    expect(await stepUpMethod(t.db, user.id)).toBe("code");
  });

  it("a no-2FA user's other session (a password holder's) survives the owner adding a first key, or a pending password-only sign-in finishes racing it: refused", async () => {
    const user = await newUser(t.db);
    const before = await sessionVersionOf(user.id);
    const pending = await Promise.all(Array.from({ length: 3 }, () => openChallenge(t.db, user)));
    const session = await confirmedSession(t.db, user);
    await t.db.insert(sessions).values({ sid: session.sessionId, userId: user.id, sessionVersion: before, expiresAt: sql`now() + interval '1 hour'` });
    const reg = await startKeyRegistration(t.db, session);
    if (!reg.ok) throw new Error(reg.error);
    const key = new SoftwareKey();
    const [added, ...finishes] = await Promise.all([
      finishKeyRegistration(t.db, session, key.register(reg.options), "First", CONTEXT),
      ...pending.map((challenge) => completeSignIn(t.db, { challenge, method: "none", code: "" }, CONTEXT)),
    ]);
    expect(added).toMatchObject({ ok: true });
    const now = await sessionVersionOf(user.id);
    expect(now).toBeGreaterThan(before);
    for (const f of finishes) if (f.ok) expect(f.user.sessionVersion).toBeLessThan(now);
  });

  // ================================================================ step-up with a key

  it("a key-only user's confirmation with the password, a recovery code or a forged \"code\": refused; Disable and Generate new codes with a recovery code or the password: refused", async () => {
    const user = await newUser(t.db);
    const { recoveryCodes: codes } = await addKey(t.db, user);
    expect(await stepUpMethod(t.db, user.id)).toBe("key");
    const session = await liveSession(t.db, user);
    for (const secret of [PASSWORD, codes[0], "000000", ""]) expect(await confirmAdmin(t.db, session, secret, CONTEXT)).not.toBe("ok");
    expect(await isRecentlyConfirmed(t.db, session)).toBe(false);
    expect(await disableTwoFactorConfirmed(t.db, session, CONTEXT)).toMatchObject({ ok: false, error: "confirmation_required", method: "key" });
    expect(await regenerateRecoveryCodesConfirmed(t.db, session, CONTEXT)).toMatchObject({ ok: false, error: "confirmation_required", method: "key" });
    for (const code of [codes[1], PASSWORD, "000000"]) {
      expect(succeeded(await disableTwoFactor(t.db, user.id, code, CONTEXT))).toBe(false);
      expect(succeeded(await regenerateRecoveryCodes(t.db, user.id, code, CONTEXT))).toBe(false);
    }
    expect(await keysOf(user.id)).toBe(1);
    expect(await liveRecoveryCodes(user.id)).toBe(10);
  });

  it("a second-step sign-in assertion (over the pending sign-in's challenge) replayed as a step-up confirmation: refused", async () => {
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user);
    const { challenge, options } = await keyPrompt(user);
    const assertion = key.assert(options);
    const session = await liveSession(t.db, user);
    expect(await confirmWithKey(t.db, session, assertion, CONTEXT)).toBe("invalid");
    expect(await isRecentlyConfirmed(t.db, session)).toBe(false);
    // Not even after the sign-in used it.
    expect(answerOf(await finishWithKey(challenge, assertion))).toBe("ok");
    expect(await confirmWithKey(t.db, session, assertion, CONTEXT)).toBe("invalid");
    expect(await isRecentlyConfirmed(t.db, session)).toBe(false);
  });

  it("a step-up assertion over another session's challenge (the owner's prompt answered in the thief's session), and another user's key over this session's challenge: neither confirmed", async () => {
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user);
    const other = await newUser(t.db);
    const { key: otherKey } = await addKey(t.db, other);
    const owner = await liveSession(t.db, user);
    const thief = await liveSession(t.db, user);
    const ownerOptions = await stepUpOptions(owner);
    expect(await confirmWithKey(t.db, thief, key.assert(ownerOptions), CONTEXT)).toBe("invalid");
    expect(await isRecentlyConfirmed(t.db, thief)).toBe(false);
    expect(await isRecentlyConfirmed(t.db, owner)).toBe(false);
    const thiefOptions = await stepUpOptions(thief);
    expect(await confirmWithKey(t.db, thief, otherKey.assert(thiefOptions), CONTEXT)).toBe("invalid");
    expect(await confirmWithKey(t.db, thief, otherKey.assert(thiefOptions, { userHandle: key.userHandle }), CONTEXT)).toBe("invalid");
    expect(await isRecentlyConfirmed(t.db, thief)).toBe(false);
    expect(await disableTwoFactorConfirmed(t.db, thief, CONTEXT)).toMatchObject({ ok: false, error: "confirmation_required" });
  });

  it("a key confirmation given in session A counted for session B of the same user (Disable, Generate new codes, and another user's session id): refused", async () => {
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user);
    const a = await keyConfirmed(user, key);
    const b = await liveSession(t.db, user);
    expect(await isRecentlyConfirmed(t.db, a)).toBe(true);
    expect(await isRecentlyConfirmed(t.db, b)).toBe(false);
    expect(await disableTwoFactorConfirmed(t.db, b, CONTEXT)).toMatchObject({ ok: false, error: "confirmation_required" });
    expect(await regenerateRecoveryCodesConfirmed(t.db, b, CONTEXT)).toMatchObject({ ok: false, error: "confirmation_required" });
    // Another user's session presenting A's session id.
    const stranger = await newUser(t.db);
    expect(await disableTwoFactorConfirmed(t.db, { id: stranger.id, sessionId: a.sessionId }, CONTEXT)).toMatchObject({ ok: false });
    expect(await keysOf(user.id)).toBe(1);
  });

  it("a step-up assertion replayed (sequentially, and 10 times in parallel on one challenge) and one without user presence: one confirmation at most", async () => {
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user, { counter: null });
    const s1 = await liveSession(t.db, user);
    const noUp = await stepUpOptions(s1);
    expect(await confirmWithKey(t.db, s1, key.assert(noUp, { userPresent: false }), CONTEXT)).toBe("invalid");
    const options = await stepUpOptions(s1);
    const assertion = key.assert(options);
    const results = await Promise.all(Array.from({ length: 10 }, () => confirmWithKey(t.db, s1, assertion, CONTEXT)));
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    await t.db.delete(stepUpConfirmations).where(eq(stepUpConfirmations.sessionId, s1.sessionId));
    expect(await confirmWithKey(t.db, s1, assertion, CONTEXT)).not.toBe("ok");
    expect(await isRecentlyConfirmed(t.db, s1)).toBe(false);
  });

  it("step-up lockout: a parallel burst of 20 bad key assertions plus the good one on 21 prompts: at most 5 judged, then the good assertion is locked out", async () => {
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user, { counter: null });
    const session = await liveSession(t.db, user);
    const prompts: Awaited<ReturnType<typeof stepUpOptions>>[] = [];
    for (let i = 0; i < 21; i++) {
      // Five live challenges per session at most: ask for each just before its use, in batches.
      prompts.push(await stepUpOptions(session));
    }
    const live = prompts.slice(-5);
    const burst = [
      ...Array.from({ length: 20 }, (_, i) => confirmWithKey(t.db, session, key.assert(live[i % 5], { garbage: true }), CONTEXT)),
      confirmWithKey(t.db, session, key.assert(live[4]), CONTEXT),
    ];
    const results = await Promise.all(burst);
    expect(results.filter((r) => r !== "locked_out").length).toBeLessThanOrEqual(5);
    const row = await userRow(t.db, user.id);
    expect(row.secondFactorFailures).toBeLessThanOrEqual(5);
    if (!results.includes("ok")) {
      const fresh = await stepUpOptions(session);
      expect(await confirmWithKey(t.db, session, key.assert(fresh), CONTEXT)).toBe("locked_out");
      expect(await isRecentlyConfirmed(t.db, session)).toBe(false);
    }
  });

  // ================================================================ races on the factor set

  it("race: the owner's two last keys removed in parallel (5 rounds): 2FA ends, recovery codes and the key step-up go, the password alone signs in", async () => {
    for (let round = 0; round < 5; round++) {
      const user = await newUser(t.db);
      const first = await addKey(t.db, user, {}, "One");
      const owner = await keyConfirmed(user, first.key);
      const reg = await startKeyRegistration(t.db, owner);
      if (!reg.ok) throw new Error(reg.error);
      const second = new SoftwareKey();
      const added = await finishKeyRegistration(t.db, owner, second.register(reg.options), "Two", CONTEXT);
      if (!added.ok) throw new Error(added.error);
      const results = await Promise.all([settled(removeSecurityKey(t.db, owner, first.id, CONTEXT)), settled(removeSecurityKey(t.db, owner, added.id, CONTEXT))]);
      // Whatever happened, the factor set and 2FA agree: no key left means no recovery code left.
      const keys = await keysOf(user.id);
      expect(await liveRecoveryCodes(user.id)).toBe(keys === 0 ? 0 : 10);
      // Both removals asked for, both done: no exception (PostgreSQL deadlock), 2FA ended by exactly one.
      expect(results.filter((r) => typeof r === "string")).toEqual([]);
      expect(keys).toBe(0);
      expect(await stepUpMethod(t.db, user.id)).toBe("password");
      expect(results.filter((r) => succeeded(r) && (r as { twoFactorOff: unknown }).twoFactorOff)).toHaveLength(1);
      const step = await passwordStep(t.db, { email: user.email, password: PASSWORD }, CONTEXT);
      expect(step).toMatchObject({ ok: true, secondFactorDue: false });
    }
  });

  it("race: the admin removes one of two keys while the owner removes the other (5 rounds): 2FA ends, no recovery code left", async () => {
    const { session: adminSession } = await confirmedAdmin();
    for (let round = 0; round < 5; round++) {
      const user = await newUser(t.db);
      const first = await addKey(t.db, user, {}, "One");
      const owner = await keyConfirmed(user, first.key);
      const reg = await startKeyRegistration(t.db, owner);
      if (!reg.ok) throw new Error(reg.error);
      const added = await finishKeyRegistration(t.db, owner, new SoftwareKey().register(reg.options), "Two", CONTEXT);
      if (!added.ok) throw new Error(added.error);
      const results = await Promise.all([settled(removeSecurityKey(t.db, owner, first.id, CONTEXT)), settled(removeUserSecurityKeys(t.db, adminSession, user.id, { keyId: added.id }, CONTEXT))]);
      const keys = await keysOf(user.id);
      expect(await liveRecoveryCodes(user.id)).toBe(keys === 0 ? 0 : 10);
      expect(results.filter((r) => typeof r === "string")).toEqual([]);
      expect(keys).toBe(0);
      expect(await liveRecoveryCodes(user.id)).toBe(0);
      expect(await stepUpMethod(t.db, user.id)).toBe("password");
    }
  });

  it("race: the first key added twice in parallel (one session, two prompts; and two sessions): exactly one set of recovery codes handed out, and it is the one that works", async () => {
    for (const sessionsUsed of [1, 2]) {
      const user = await newUser(t.db);
      const s1 = await confirmedSession(t.db, user);
      await t.db.insert(sessions).values({ sid: s1.sessionId, userId: user.id, sessionVersion: 0, expiresAt: sql`now() + interval '1 hour'` });
      let s2 = s1;
      if (sessionsUsed === 2) {
        s2 = await confirmedSession(t.db, user);
        await t.db.insert(sessions).values({ sid: s2.sessionId, userId: user.id, sessionVersion: 0, expiresAt: sql`now() + interval '1 hour'` });
      }
      const r1 = await startKeyRegistration(t.db, s1);
      const r2 = await startKeyRegistration(t.db, s2);
      if (!r1.ok || !r2.ok) throw new Error("no registration options");
      const results = await Promise.all([
        finishKeyRegistration(t.db, s1, new SoftwareKey().register(r1.options), "A", CONTEXT),
        finishKeyRegistration(t.db, s2, new SoftwareKey().register(r2.options), "B", CONTEXT),
      ]);
      const sets = results.flatMap((r) => (r.ok && r.firstFactor ? [r.firstFactor.recoveryCodes] : []));
      expect(sets).toHaveLength(1);
      expect(await liveRecoveryCodes(user.id)).toBe(10);
      for (const set of sets) expect(await recoveryCodeWorks(user, set[0])).toBe(true);
    }
  });

  it("race: the last key removed by its owner while a second-step sign-in with it finishes (5 rounds): no live session for the removed factor", async () => {
    for (let round = 0; round < 5; round++) {
      const user = await newUser(t.db);
      const { key, id } = await addKey(t.db, user, { counter: null });
      const owner = await keyConfirmed(user, key);
      const { challenge, options } = await keyPrompt(user);
      const assertion = key.assert(options);
      const [signIn, removal] = await Promise.all([finishWithKey(challenge, assertion), removeSecurityKey(t.db, owner, id, CONTEXT)]);
      expect(removal).toMatchObject({ ok: true });
      expect(await keysOf(user.id)).toBe(0);
      if (signIn.ok) expect(signIn.user.sessionVersion).toBeLessThan(await sessionVersionOf(user.id));
    }
  });

  it("race: the admin removes all keys while the key-only user adds another (5 rounds): never a key without recovery codes, never recovery codes without a factor, 2FA as the keys say", async () => {
    const { session: adminSession } = await confirmedAdmin();
    for (let round = 0; round < 5; round++) {
      const user = await newUser(t.db);
      const first = await addKey(t.db, user);
      const owner = await keyConfirmed(user, first.key);
      const reg = await startKeyRegistration(t.db, owner);
      if (!reg.ok) throw new Error(reg.error);
      const [added, removed] = await Promise.all([
        finishKeyRegistration(t.db, owner, new SoftwareKey().register(reg.options), "New", CONTEXT),
        removeUserSecurityKeys(t.db, adminSession, user.id, "all", CONTEXT),
      ]);
      const keys = await keysOf(user.id);
      const codes = await liveRecoveryCodes(user.id);
      if (keys > 0) {
        expect(codes).toBeGreaterThan(0);
        expect(await stepUpMethod(t.db, user.id)).toBe("key");
        const step = await passwordStep(t.db, { email: user.email, password: PASSWORD }, CONTEXT);
        expect(step).toMatchObject({ ok: true, secondFactorDue: true });
        // The admin was told 2FA is off, yet a key is left?
        expect(removed.ok && removed.twoFactorOff && !(added.ok && added.firstFactor)).toBe(false);
      } else {
        expect(codes).toBe(0);
        expect(await stepUpMethod(t.db, user.id)).toBe("password");
      }
    }
  });

  it("a passkey added by a key-only user with the step-up of an OTHER key-only user's session id: refused, nothing stored", async () => {
    const user = await newUser(t.db);
    await addKey(t.db, user);
    const other = await newUser(t.db);
    const { key: otherKey } = await addKey(t.db, other);
    const otherSession = await keyConfirmed(other, otherKey);
    const forged: AdminSession = { id: user.id, sessionId: otherSession.sessionId };
    expect(await startKeyRegistration(t.db, forged)).toMatchObject({ ok: false });
    expect(await keysOf(user.id)).toBe(1);
  });
});
