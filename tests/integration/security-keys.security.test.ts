import { randomBytes } from "node:crypto";
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import { eq, sql } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { instanceSettings, securityKeys, sessions, stepUpConfirmations, totpCredentials, users, webauthnChallenges } from "@/db/schema";
import { confirmAdmin, type AdminSession } from "@/lib/admin/step-up";
import { createChallenge } from "@/lib/auth/challenge";
import { completeSignIn, type SecondStepInput, type SecondStepResult } from "@/lib/auth/second-step";
import { sha256Hex } from "@/lib/crypto";
import { issueWebauthnChallenge } from "@/lib/security-keys/challenges";
import { removeSecurityKey } from "@/lib/security-keys/manage";
import { finishKeyRegistration, startKeyRegistration } from "@/lib/security-keys/registration";
import { userHandleOf } from "@/lib/security-keys/relying-party";
import { startKeySignIn } from "@/lib/security-keys/sign-in";
import { removeTwoFactor } from "@/lib/two-factor/enrollment";
import { getSettings } from "@/lib/settings";
import { testDrivers, useTestDatabase } from "./support/databases";
import {
  codeAt,
  CONTEXT,
  enrolledUser,
  eventNamesAbout,
  newSession,
  newUser,
  openChallenge,
  PASSWORD,
  rawRows,
  rewindLastUsedStep,
  userRow,
  wrongCode,
  type TestUser,
} from "./support/fixtures";
import { b64, runAsTestRelyingParty, SoftwareKey, TEST_ORIGIN, type Forgery, type SoftwareKeyOptions } from "./support/software-key";

/**
 * Red team (attack-keys): attacks on the security-key (WebAuthn) second factor,
 * in-process against lib/ (there is no route yet). A test that FAILS is a
 * finding; one that passes pins down the attack a plausible regression would
 * open. The software authenticator (tests/integration/support/software-key.ts)
 * forges on request what a real one never sends: flags, origins, RP ID hashes,
 * types, counters, challenges, user handles and signatures.
 */

/**
 * Seams for interleaving deterministically (product code unchanged, only the
 * timing chosen): `afterClaim` runs once right after a WebAuthn challenge is
 * claimed (inside verify, after the key row was read); `afterConsume` once
 * right after the sign-in challenge is consumed inside the finishing transaction.
 */
const seam = vi.hoisted(() => ({ afterClaim: null as null | (() => Promise<unknown>), afterConsume: null as null | (() => Promise<unknown>) }));
vi.mock("@/lib/security-keys/challenges", async (importOriginal) => {
  const original = await importOriginal<typeof import("@/lib/security-keys/challenges")>();
  const { withSeamAfter } = await import("./support/seams");
  return { ...original, claimWebauthnChallenge: withSeamAfter(original.claimWebauthnChallenge, seam, "afterClaim") };
});
vi.mock("@/lib/auth/challenge", async (importOriginal) => {
  const original = await importOriginal<typeof import("@/lib/auth/challenge")>();
  const { withSeamAfter } = await import("./support/seams");
  return { ...original, consumeChallenge: withSeamAfter(original.consumeChallenge, seam, "afterConsume") };
});

runAsTestRelyingParty();

const answerOf = (r: SecondStepResult) => (r.ok ? "ok" : r.error);
const sessionsOf = (results: SecondStepResult[]) => results.filter((r) => r.ok).length;
/** A test that exists on one driver only is not registered on the other (rather than reported as skipped). */
const noTest = (..._args: Parameters<typeof it>) => {};

describe.each(testDrivers())("red team (security keys) on %s", (driver) => {
  const t = useTestDatabase(driver);

  beforeEach(async () => {
    seam.afterClaim = null;
    seam.afterConsume = null;
    await getSettings(t.db);
    await t.db.update(instanceSettings).set({ twoFactorEnabled: true }).where(eq(instanceSettings.id, 1));
  });

  /** A session row, as the second step writes one (a registration challenge belongs to it). */
  async function signedInSession(user: { id: string }): Promise<AdminSession> {
    const session = newSession(user);
    await t.db.insert(sessions).values({ sid: session.sessionId, userId: user.id, sessionVersion: 0, expiresAt: sql`now() + interval '1 hour'` });
    return session;
  }

  /** A session that confirmed just now: with a current code (2FA) or the password (no 2FA). */
  async function confirmed(user: TestUser & { secret?: string }): Promise<AdminSession> {
    const session = await signedInSession(user);
    expect(await confirmAdmin(t.db, session, user.secret ? codeAt(user.secret) : PASSWORD, CONTEXT)).toBe("ok");
    if (user.secret) await rewindLastUsedStep(t.db, user.id);
    return session;
  }

  async function registered(user: TestUser & { secret?: string }, key = new SoftwareKey()) {
    const session = await confirmed(user);
    const started = await startKeyRegistration(t.db, session);
    if (!started.ok) throw new Error(started.error);
    const finished = await finishKeyRegistration(t.db, session, key.register(started.options), "YubiKey", CONTEXT);
    if (!finished.ok) throw new Error(finished.error);
    return { key, session, id: finished.id };
  }

  /** The password step, then Use security key: the sign-in challenge and the WebAuthn options. */
  async function keyPrompt(user: TestUser, token?: string) {
    const challenge = token ?? (await openChallenge(t.db, user));
    const started = await startKeySignIn(t.db, challenge);
    if (!started.ok) throw new Error(started.error);
    return { challenge, options: started.options };
  }

  const finish = (challenge: string, assertion: unknown, extra: Partial<SecondStepInput> = {}) =>
    completeSignIn(t.db, { challenge, method: "security_key", code: "", assertion, ...extra }, CONTEXT);

  async function keyUser(options: SoftwareKeyOptions = {}) {
    const user = await enrolledUser(t.db);
    const { key, session, id } = await registered(user, new SoftwareKey(options));
    return { user, key, session, keyId: id };
  }

  const unlock = (userId: string) => t.db.update(users).set({ secondFactorFailures: 0, secondFactorLockouts: 0, secondFactorLockedUntil: null }).where(eq(users.id, userId));
  const keyRow = async (id: string) => (await t.db.select().from(securityKeys).where(eq(securityKeys.id, id)))[0];

  // ---------------------------------------------------------------- replay

  it("an assertion replayed sequentially: at the same sign-in, at a new sign-in of the same user: one session", async () => {
    const { user, key } = await keyUser();
    const { challenge, options } = await keyPrompt(user);
    const assertion = key.assert(options);
    expect(answerOf(await finish(challenge, assertion))).toBe("ok");
    expect(answerOf(await finish(challenge, assertion))).toBe("challenge_expired");
    const next = await keyPrompt(user);
    expect(answerOf(await finish(next.challenge, assertion))).toBe("key_invalid");
    // The new sign-in still works with a fresh assertion: the replay was refused, not the key.
    expect(answerOf(await finish(next.challenge, key.assert(next.options)))).toBe("ok");
  });

  it("an assertion replayed in a parallel burst (same sign-in, and other sign-ins of the same user): at most one session", async () => {
    const { user, key } = await keyUser();
    const { challenge, options } = await keyPrompt(user);
    const assertion = key.assert(options);
    const others = [await openChallenge(t.db, user), await openChallenge(t.db, user)];
    for (const other of others) await startKeySignIn(t.db, other);
    const results = await Promise.all([...Array.from({ length: 8 }, () => finish(challenge, assertion)), ...others.map((other) => finish(other, assertion))]);
    expect(sessionsOf(results)).toBe(1);
  });

  it("two WebAuthn challenges of one sign-in, both answered in parallel: one session per password step", async () => {
    const { user, key } = await keyUser({ counter: null });
    const challenge = await openChallenge(t.db, user);
    const a = await keyPrompt(user, challenge);
    const b = await keyPrompt(user, challenge);
    const results = await Promise.all([finish(challenge, key.assert(a.options)), finish(challenge, key.assert(b.options))]);
    expect(sessionsOf(results)).toBe(1);
  });

  // ---------------------------------------------------------------- whose key, whose handle

  it("another user's credential (a key registered to user B) at user A's second step: refused", async () => {
    const a = await keyUser();
    const b = await keyUser();
    const { challenge, options } = await keyPrompt(a.user);
    // B's key over A's WebAuthn challenge, with B's handle, then forged with A's handle.
    expect(answerOf(await finish(challenge, b.key.assert(options)))).toBe("key_invalid");
    const again = await keyPrompt(a.user, challenge);
    expect(answerOf(await finish(challenge, b.key.assert(again.options, { userHandle: isoBase64URL.fromBuffer(userHandleOf(a.user.id)) })))).toBe("key_invalid");
    expect(await eventNamesAbout(t.db, a.user.id)).not.toContain("sign_in.succeeded");
    expect(await eventNamesAbout(t.db, a.user.id)).toContain("security_key.refused");
  });

  it("a user handle that is not this user's (another user's, a random one): refused", async () => {
    const a = await keyUser();
    const b = await keyUser();
    for (const userHandle of [isoBase64URL.fromBuffer(userHandleOf(b.user.id)), b64(randomBytes(16)), b64(randomBytes(64))]) {
      const { challenge, options } = await keyPrompt(a.user);
      expect(answerOf(await finish(challenge, a.key.assert(options, { userHandle })))).toBe("key_invalid");
    }
    // Without a user handle (a non-discoverable key sends none), the key still works.
    const { challenge, options } = await keyPrompt(a.user);
    expect(answerOf(await finish(challenge, a.key.assert(options, { userHandle: null })))).toBe("ok");
  });

  it("a credential id of this user with another key's signature (the user's second key, a stranger's key, garbage): refused", async () => {
    const { user, key } = await keyUser({ counter: 50 });
    const second = (await registered(user, new SoftwareKey({ counter: 100 }))).key;
    for (const forged of [{ signer: second }, { signer: new SoftwareKey() }, { garbage: true }] as Forgery[]) {
      const { challenge, options } = await keyPrompt(user);
      expect(answerOf(await finish(challenge, key.assert(options, { counter: 1000, ...forged })))).toBe("key_invalid");
    }
    expect(await eventNamesAbout(t.db, user.id)).not.toContain("sign_in.succeeded");
  });

  // ---------------------------------------------------------------- whose challenge

  it("the WebAuthn challenge of one sign-in used to finish another sign-in of the same user: refused", async () => {
    const { user, key } = await keyUser();
    const first = await keyPrompt(user);
    const second = await openChallenge(t.db, user);
    await startKeySignIn(t.db, second);
    expect(answerOf(await finish(second, key.assert(first.options)))).toBe("key_invalid");
    // Nor did the refusal leave the first sign-in's challenge usable by the other.
    expect(answerOf(await finish(second, key.assert(first.options)))).toBe("key_invalid");
  });

  it("the WebAuthn challenge of another user's sign-in, signed by this user's own key: refused", async () => {
    const a = await keyUser();
    const b = await keyUser();
    const theirs = await keyPrompt(b.user);
    const mine = await openChallenge(t.db, a.user);
    expect(answerOf(await finish(mine, a.key.assert(theirs.options)))).toBe("key_invalid");
    // And B's sign-in is not finished by A's key over B's challenge.
    expect(answerOf(await finish(theirs.challenge, a.key.assert(theirs.options)))).toBe("key_invalid");
  });

  it("a registration challenge used at sign-in, and a sign-in challenge used at registration: refused", async () => {
    const { user, key, session } = await keyUser();
    const registration = await startKeyRegistration(t.db, session);
    if (!registration.ok) throw new Error(registration.error);
    const { challenge } = await keyPrompt(user);
    expect(answerOf(await finish(challenge, key.assert({ challenge: registration.options.challenge })))).toBe("key_invalid");

    const prompt = await keyPrompt(user);
    const started = await startKeyRegistration(t.db, session);
    if (!started.ok) throw new Error(started.error);
    const newKey = new SoftwareKey();
    expect(await finishKeyRegistration(t.db, session, newKey.register(started.options, { challenge: prompt.options.challenge }), "Stolen", CONTEXT)).toMatchObject({ ok: false });
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.credentialId, newKey.id))).toEqual([]);
  });

  it("an expired WebAuthn challenge (the sign-in challenge still live): refused", async () => {
    const { user, key } = await keyUser();
    const { challenge, options } = await keyPrompt(user);
    await t.db.update(webauthnChallenges).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(webauthnChallenges.challenge, options.challenge));
    expect(answerOf(await finish(challenge, key.assert(options)))).toBe("key_invalid");
  });

  it("an expired registration challenge: refused, nothing stored", async () => {
    const user = await enrolledUser(t.db);
    const session = await confirmed(user);
    const started = await startKeyRegistration(t.db, session);
    if (!started.ok) throw new Error(started.error);
    await t.db.update(webauthnChallenges).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(webauthnChallenges.challenge, started.options.challenge));
    expect(await finishKeyRegistration(t.db, session, new SoftwareKey().register(started.options), "Late", CONTEXT)).toEqual({ ok: false, error: "expired" });
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.userId, user.id))).toEqual([]);
  });

  // ---------------------------------------------------------------- phishing, types, flags

  const phishing: [string, Forgery][] = [
    ["origin http://localhost.evil.example", { origin: "http://localhost.evil.example" }],
    ["origin https://evil.example", { origin: "https://evil.example" }],
    ["origin of another port", { origin: "http://localhost:3998" }],
    ["origin https://localhost:3999", { origin: "https://localhost:3999" }],
    ["origin with a trailing slash", { origin: `${TEST_ORIGIN}/` }],
    ["rpId evil.example", { rpId: "evil.example" }],
    ["rpId localhost.evil.example", { rpId: "localhost.evil.example" }],
    ["phishing origin and rpId together", { origin: "https://evil.example", rpId: "evil.example" }],
  ];
  it.each(phishing)("an assertion from a phishing page (%s): refused", async (_name, forged) => {
    const { user, key } = await keyUser();
    const { challenge, options } = await keyPrompt(user);
    expect(answerOf(await finish(challenge, key.assert(options, forged)))).toBe("key_invalid");
    expect(await eventNamesAbout(t.db, user.id)).not.toContain("sign_in.succeeded");
  });

  it("a registration from a phishing page (origin, rpId) or with type webauthn.get: refused, nothing stored", async () => {
    const user = await enrolledUser(t.db);
    const session = await confirmed(user);
    for (const forged of [{ origin: "https://evil.example" }, { rpId: "evil.example" }, { origin: "http://localhost.evil.example" }, { type: "webauthn.get" }]) {
      const started = await startKeyRegistration(t.db, session);
      if (!started.ok) throw new Error(started.error);
      expect(await finishKeyRegistration(t.db, session, new SoftwareKey().register(started.options, forged), "Phished", CONTEXT), JSON.stringify(forged)).toMatchObject({ ok: false });
    }
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.userId, user.id))).toEqual([]);
  });

  it("clientDataJSON type webauthn.create (or any other) at sign-in: refused", async () => {
    const { user, key } = await keyUser();
    for (const type of ["webauthn.create", "payment.get", "WEBAUTHN.GET", ""]) {
      await unlock(user.id);
      const { challenge, options } = await keyPrompt(user);
      expect(answerOf(await finish(challenge, key.assert(options, { type }))), type).toBe("key_invalid");
    }
  });

  it("an assertion made in a cross-origin frame whose top origin is a phishing page: refused", async () => {
    const { user, key } = await keyUser();
    const { challenge, options } = await keyPrompt(user);
    expect(answerOf(await finish(challenge, key.assert(options, { crossOrigin: true, topOrigin: "https://evil.example" })))).toBe("key_invalid");
  });

  /**
   * Found by this file (low), fixed: the app cannot be framed (frame-ancestors
   * 'none') and never expects a cross-origin assertion, but an assertion whose
   * clientDataJSON says crossOrigin: true without a topOrigin (what Safari
   * sends from a cross-origin iframe) is accepted: @simplewebauthn only checks
   * topOrigin when present, and lib/auth/factors/security-key.ts does not look
   * at crossOrigin (WebAuthn L3 §7.2: verify the RP expects it).
   */
  it("an assertion that says it was made in a cross-origin frame (crossOrigin: true, no topOrigin): refused", async () => {
    const { user, key } = await keyUser();
    const { challenge, options } = await keyPrompt(user);
    expect(answerOf(await finish(challenge, key.assert(options, { crossOrigin: true })))).toBe("key_invalid");
  });

  it("an assertion without the user-present flag: refused", async () => {
    const { user, key } = await keyUser();
    const { challenge, options } = await keyPrompt(user);
    expect(answerOf(await finish(challenge, key.assert(options, { userPresent: false })))).toBe("key_invalid");
  });

  // ---------------------------------------------------------------- counters

  it("a counter that goes backwards (or to 0, or stays) on a device-bound key: refused and audited as security_key.counter_regressed", async () => {
    const { user, key, keyId } = await keyUser({ counter: 10 });
    const first = await keyPrompt(user);
    expect(answerOf(await finish(first.challenge, key.assert(first.options)))).toBe("ok"); // counter now 11
    expect((await keyRow(keyId)).counter).toBe(11);
    for (const counter of [10, 11, 0]) {
      const { challenge, options } = await keyPrompt(user);
      const before = (await eventNamesAbout(t.db, user.id)).filter((e) => e === "security_key.counter_regressed").length;
      expect(answerOf(await finish(challenge, key.assert(options, { counter }))), String(counter)).toBe("key_invalid");
      const after = (await eventNamesAbout(t.db, user.id)).filter((e) => e === "security_key.counter_regressed").length;
      expect(after, String(counter)).toBe(before + 1);
    }
    expect((await keyRow(keyId)).counter).toBe(11);
  });

  /**
   * Found by this file, fixed: @simplewebauthn compares the counter BEFORE it
   * verifies the signature, and lib/auth/factors/security-key.ts maps any
   * thrown message matching /counter/i to security_key.counter_regressed
   * (the cloned-key alarm). A password holder with no key at all — an
   * unsigned assertion with a low counter, or any origin / challenge text
   * containing "counter" (echoed in the library's error message) — makes the
   * owner's key look cloned in the audit log.
   */
  it("an UNSIGNED assertion (no private key) is never audited as a counter regression of the owner's key", async () => {
    const { user, key } = await keyUser({ counter: 10 });
    const forgeries: Forgery[] = [
      { counter: 1, garbage: true }, // a low counter and no valid signature
      { counter: 1, signer: new SoftwareKey() }, // a low counter signed by a key that is not this one
      { origin: "https://counter.evil.example" }, // the origin is echoed in the library's message
      { challenge: "counter" }, // so is the challenge
    ];
    for (const forged of forgeries) {
      await unlock(user.id);
      const { challenge, options } = await keyPrompt(user);
      expect(answerOf(await finish(challenge, key.assert(options, forged)))).toBe("key_invalid");
    }
    const events = (await eventNamesAbout(t.db, user.id)).filter((e) => e.startsWith("security_key.") && e !== "security_key.added");
    expect(events).toEqual(forgeries.map(() => "security_key.refused"));
  });

  it("a cloned device-bound key: two sign-ins with the same counter, sequentially and in parallel: one session, the other audited as counter_regressed", async () => {
    const { user, key, keyId } = await keyUser({ counter: 5 });
    // Sequentially: the clone reports the counter the original already used.
    const a = await keyPrompt(user);
    const b = await keyPrompt(user);
    expect(answerOf(await finish(a.challenge, key.assert(a.options, { counter: 6 })))).toBe("ok");
    expect(answerOf(await finish(b.challenge, key.assert(b.options, { counter: 6 })))).toBe("key_invalid");
    // In parallel: both verify against the stored 6, one compare-and-set wins.
    const c = await keyPrompt(user);
    const d = await keyPrompt(user);
    const results = await Promise.all([finish(c.challenge, key.assert(c.options, { counter: 7 })), finish(d.challenge, key.assert(d.options, { counter: 7 }))]);
    expect(sessionsOf(results)).toBe(1);
    expect(results.map(answerOf).sort()).toEqual(["key_invalid", "ok"]);
    expect((await keyRow(keyId)).counter).toBe(7);
    expect((await eventNamesAbout(t.db, user.id)).filter((e) => e === "security_key.counter_regressed")).toHaveLength(2);
  });

  it("a parallel burst of sign-ins with one device-bound key at rising counters: every session matched by a growing counter, none lower than the stored one", async () => {
    const { user, key, keyId } = await keyUser({ counter: 1 });
    const prompts = [];
    for (let i = 0; i < 5; i++) prompts.push(await keyPrompt(user));
    const results = await Promise.all(prompts.map((p, i) => finish(p.challenge, key.assert(p.options, { counter: 100 + i }))));
    expect(sessionsOf(results)).toBeGreaterThanOrEqual(1);
    expect((await keyRow(keyId)).counter).toBeGreaterThanOrEqual(100);
  });

  // ---------------------------------------------------------------- registration

  it("registration with no confirmation, or another session's confirmation: refused, nothing stored", async () => {
    const user = await enrolledUser(t.db);
    const never = await signedInSession(user);
    expect(await startKeyRegistration(t.db, never)).toMatchObject({ ok: false, error: "confirmation_required" });
    // Another session of the same user confirmed; this one did not.
    const other = await confirmed(user);
    expect(await startKeyRegistration(t.db, never)).toMatchObject({ ok: false, error: "confirmation_required" });
    // Another user's confirmed session id, claimed by this user.
    const stranger = await enrolledUser(t.db);
    const theirs = await confirmed(stranger);
    expect(await startKeyRegistration(t.db, { id: user.id, sessionId: theirs.sessionId })).toMatchObject({ ok: false, error: "confirmation_required" });
    // Only the password step done: the pending sign-in's token is no session.
    const pending = await openChallenge(t.db, user);
    expect(await startKeyRegistration(t.db, { id: user.id, sessionId: pending })).toMatchObject({ ok: false, error: "confirmation_required" });
    // A finish from an unconfirmed session, with the options the confirmed one got.
    const started = await startKeyRegistration(t.db, other);
    if (!started.ok) throw new Error(started.error);
    expect(await finishKeyRegistration(t.db, never, new SoftwareKey().register(started.options), "Sneaky", CONTEXT)).toMatchObject({ ok: false, error: "confirmation_required" });
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.userId, user.id))).toEqual([]);
  });

  it("registration finished from a different (confirmed) session than the one that started it: refused, nothing stored", async () => {
    const user = await enrolledUser(t.db);
    const starter = await confirmed(user);
    const started = await startKeyRegistration(t.db, starter);
    if (!started.ok) throw new Error(started.error);
    const otherSession = await signedInSession(user);
    await t.db.insert(stepUpConfirmations).values({ sessionId: otherSession.sessionId, userId: user.id });
    expect(await finishKeyRegistration(t.db, otherSession, new SoftwareKey().register(started.options), "Other tab", CONTEXT)).toEqual({ ok: false, error: "expired" });
    // Nor by the same session of another user.
    const stranger = await enrolledUser(t.db);
    const theirs = await confirmed(stranger);
    expect(await finishKeyRegistration(t.db, theirs, new SoftwareKey().register(started.options), "Theirs", CONTEXT)).toMatchObject({ ok: false });
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.userId, user.id))).toEqual([]);
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.userId, stranger.id))).toEqual([]);
  });

  it("a registration response replayed: one key", async () => {
    const user = await enrolledUser(t.db);
    const session = await confirmed(user);
    const started = await startKeyRegistration(t.db, session);
    if (!started.ok) throw new Error(started.error);
    const response = new SoftwareKey().register(started.options);
    const results = await Promise.all(Array.from({ length: 5 }, () => finishKeyRegistration(t.db, session, response, "Twice", CONTEXT)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await finishKeyRegistration(t.db, session, response, "Again", CONTEXT)).toMatchObject({ ok: false });
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.userId, user.id))).toHaveLength(1);
  });

  /**
   * Found by this file (low), fixed: a session signed out (its row deleted)
   * after it confirmed still passes requireConfirmation (step_up_confirmations
   * is not tied to sessions), and startKeyRegistration then throws a foreign-key
   * violation from issueWebauthnChallenge (webauthn_challenges.session_id
   * references sessions.sid) instead of refusing: a 500 where a refusal is due.
   */
  it("registration from a session signed out after it confirmed: refused without an exception", async () => {
    const user = await enrolledUser(t.db);
    const session = await confirmed(user);
    await t.db.delete(sessions).where(eq(sessions.sid, session.sessionId));
    let outcome: unknown;
    try {
      outcome = await startKeyRegistration(t.db, session);
    } catch (error) {
      outcome = `threw: ${(error as Error).message.slice(0, 120)}`;
    }
    expect(outcome).toMatchObject({ ok: false });
  });

  it("the same credential registered twice (same user) or by two users (a copy of the credential id with another key pair): refused, one row", async () => {
    const a = await keyUser();
    const again = await confirmed(a.user);
    const startedAgain = await startKeyRegistration(t.db, again);
    if (!startedAgain.ok) throw new Error(startedAgain.error);
    expect(await finishKeyRegistration(t.db, again, a.key.register(startedAgain.options), "Same", CONTEXT)).toEqual({ ok: false, error: "already_registered" });
    const b = await enrolledUser(t.db);
    const theirs = await confirmed(b);
    const started = await startKeyRegistration(t.db, theirs);
    if (!started.ok) throw new Error(started.error);
    const copy = new SoftwareKey({ credentialId: a.key.credentialId });
    expect(await finishKeyRegistration(t.db, theirs, copy.register(started.options), "Copied id", CONTEXT)).toEqual({ ok: false, error: "already_registered" });
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.credentialId, a.key.id))).toHaveLength(1);
    // A's key still signs A in, and the copy does not sign B or A in.
    const prompt = await keyPrompt(a.user);
    expect(answerOf(await finish(prompt.challenge, copy.assert(prompt.options, { counter: 9999 })))).toBe("key_invalid");
    const next = await keyPrompt(a.user, prompt.challenge);
    expect(answerOf(await finish(prompt.challenge, a.key.assert(next.options)))).toBe("ok");
  });

  it("one credential id registered by two users in parallel: exactly one row", async () => {
    const a = await enrolledUser(t.db);
    const b = await enrolledUser(t.db);
    const credentialId = randomBytes(16);
    const [sa, sb] = [await confirmed(a), await confirmed(b)];
    const [oa, ob] = [await startKeyRegistration(t.db, sa), await startKeyRegistration(t.db, sb)];
    if (!oa.ok || !ob.ok) throw new Error("start failed");
    const results = await Promise.all([
      finishKeyRegistration(t.db, sa, new SoftwareKey({ credentialId }).register(oa.options), "A", CONTEXT),
      finishKeyRegistration(t.db, sb, new SoftwareKey({ credentialId }).register(ob.options), "B", CONTEXT),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.credentialId, b64(credentialId)))).toHaveLength(1);
  });

  // ---------------------------------------------------------------- lockout

  it("failed assertions count in the shared lockout, exactly once each: 5 then locked, a good assertion then refused", async () => {
    const { user, key } = await keyUser();
    const challenge = await openChallenge(t.db, user);
    const bad: ((o: { challenge: string }) => unknown)[] = [
      (o) => key.assert(o, { garbage: true }),
      (o) => key.assert(o, { origin: "https://evil.example" }),
      () => ({ id: "x" }),
      (o) => new SoftwareKey().assert(o),
    ];
    for (const [i, make] of bad.entries()) {
      const { options } = await keyPrompt(user, challenge);
      expect(answerOf(await finish(challenge, make(options)))).toBe("key_invalid");
      expect((await userRow(t.db, user.id)).secondFactorFailures, `after failure ${i + 1}`).toBe(i + 1);
    }
    const fifth = await keyPrompt(user, challenge);
    expect(answerOf(await finish(challenge, key.assert(fifth.options, { rpId: "evil.example" })))).toBe("locked_out");
    const locked = await userRow(t.db, user.id);
    expect(locked.secondFactorLockedUntil).not.toBeNull();
    const good = await keyPrompt(user, challenge);
    expect(answerOf(await finish(challenge, key.assert(good.options)))).toBe("locked_out");
    const events = await eventNamesAbout(t.db, user.id);
    expect(events).not.toContain("sign_in.succeeded");
    expect(events).toContain("sign_in.locked_out");
    expect(events).toContain("sign_in.locked_attempt");
    expect(events.filter((e) => e === "security_key.refused")).toHaveLength(5);
  });

  it("key failures and code failures share one counter; a good assertion clears them", async () => {
    const { user, key } = await keyUser();
    const challenge = await openChallenge(t.db, user);
    expect(answerOf(await completeSignIn(t.db, { challenge, method: "totp", code: wrongCode(user.secret) }, CONTEXT))).toBe("code_invalid");
    for (let i = 0; i < 2; i++) {
      const { options } = await keyPrompt(user, challenge);
      expect(answerOf(await finish(challenge, key.assert(options, { garbage: true })))).toBe("key_invalid");
    }
    expect((await userRow(t.db, user.id)).secondFactorFailures).toBe(3);
    const { options } = await keyPrompt(user, challenge);
    expect(answerOf(await finish(challenge, key.assert(options)))).toBe("ok");
    expect(await userRow(t.db, user.id)).toMatchObject({ secondFactorFailures: 0, secondFactorLockedUntil: null });
  });

  it("a parallel burst of 20 bad assertions plus the good one: at most 5 judged, at most one session, locked", async () => {
    const { user, key } = await keyUser({ counter: null });
    const challenge = await openChallenge(t.db, user);
    const prompts = [];
    for (let i = 0; i < 21; i++) prompts.push(await keyPrompt(user, challenge));
    const results = await Promise.all(prompts.map((p, i) => finish(challenge, i === 20 ? key.assert(p.options) : key.assert(p.options, { garbage: true }))));
    expect(sessionsOf(results)).toBeLessThanOrEqual(1);
    const events = await eventNamesAbout(t.db, user.id);
    expect(events.filter((e) => e === "security_key.refused").length).toBeLessThanOrEqual(5);
    if (sessionsOf(results) === 0) expect((await userRow(t.db, user.id)).secondFactorLockedUntil).not.toBeNull();
  });

  // ---------------------------------------------------------------- removal in flight

  const removals: [string, (owner: Awaited<ReturnType<typeof keyUser>>) => Promise<unknown>][] = [
    [
      "the owner removes the key",
      async (owner) => {
        const removed = await removeSecurityKey(t.db, owner.session, owner.keyId, CONTEXT);
        if (!removed.ok) throw new Error("removal refused");
      },
    ],
    ["2FA is removed (keys with it)", (owner) => t.db.transaction((tx) => removeTwoFactor(tx, owner.user.id))],
  ];
  it.each(removals)("a key removed while a sign-in with it is in flight (%s, after the WebAuthn challenge was claimed): no session", async (_name, remove) => {
    const owner = await keyUser();
    const { challenge, options } = await keyPrompt(owner.user);
    let removed = false;
    seam.afterClaim = async () => {
      await remove(owner);
      removed = true;
    };
    const result = await finish(challenge, owner.key.assert(options));
    expect(removed).toBe(true);
    expect(answerOf(result)).not.toBe("ok");
  });

  it.each(removals)("a key removed between Use security key and the answer (%s): no session", async (_name, remove) => {
    const owner = await keyUser();
    const { challenge, options } = await keyPrompt(owner.user);
    await remove(owner);
    expect(answerOf(await finish(challenge, owner.key.assert(options)))).not.toBe("ok");
  });

  /**
   * The owner's Remove racing the finish on PostgreSQL: the finish has
   * consumed the sign-in challenge (row locked) when the Remove starts. It
   * used to delete the key first (row locked), its trigger then waiting for
   * the challenge row while the finish's counter UPDATE waited for the key
   * row: a deadlock, the Remove aborted. Now both take the challenge first.
   */
  (driver === "postgres" ? it : noTest)("the owner's Remove racing the finishing transaction (real concurrency): no deadlock, the Remove waits and then removes the key", async () => {
    const owner = await keyUser();
    const { challenge, options } = await keyPrompt(owner.user);
    let removing: Promise<unknown> | undefined;
    let waited = false;
    seam.afterConsume = async () => {
      removing = removeSecurityKey(t.db, owner.session, owner.keyId, CONTEXT).catch((error: Error) => `threw: ${String((error.cause as Error | undefined)?.message ?? error.message)}`);
      for (let i = 0; i < 200; i++) {
        const [row] = await rawRows<{ n: number }>(t.db, sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
        if (Number(row.n) > 0) {
          waited = true;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const result = await finish(challenge, owner.key.assert(options)).catch((error: Error) => `threw: ${error.message}`);
    const removal = await removing;
    expect(waited).toBe(true);
    const keyLeft = (await t.db.select().from(securityKeys).where(eq(securityKeys.id, owner.keyId))).length;
    const answer = typeof result === "string" ? result : answerOf(result);
    expect(answer).not.toMatch(/^threw/);
    expect(typeof removal === "string" ? removal : "").not.toMatch(/^threw/);
    // Both take the pending sign-in first, then the key: the Remove waits for the finish, which commits first
    // (its session predates the removal), and then removes the key. Before, they deadlocked and the Remove was lost.
    expect(answer).toBe("ok");
    expect(keyLeft).toBe(0);
  });

  // ---------------------------------------------------------------- qualification

  /** A user left with a key but no TOTP credential (written straight to the database: the app refuses to add such a key). */
  async function keyOnlyUser() {
    const { user, key } = await keyUser();
    await t.db.delete(totpCredentials).where(eq(totpCredentials.userId, user.id));
    return { user, key };
  }

  it("a user whose only factor is a key: the password alone and a TOTP code cannot finish (refused, spent, audited); the key does", async () => {
    const { user, key } = await keyOnlyUser();
    const alone = await openChallenge(t.db, user);
    expect(answerOf(await completeSignIn(t.db, { challenge: alone, method: "none", code: "" }, CONTEXT))).toBe("challenge_expired");
    expect(await eventNamesAbout(t.db, user.id)).toContain("sign_in.finish_refused");
    expect(answerOf(await completeSignIn(t.db, { challenge: alone, method: "security_key", code: "" }, CONTEXT))).toBe("challenge_expired");
    const withCode = await openChallenge(t.db, user);
    expect(answerOf(await completeSignIn(t.db, { challenge: withCode, method: "totp", code: codeAt(user.secret) }, CONTEXT))).toBe("challenge_expired");
    const { challenge, options } = await keyPrompt(user);
    expect(answerOf(await finish(challenge, key.assert(options)))).toBe("ok");
  });

  it("the method security_key with the instance's 2FA off: no session", async () => {
    const { user, key } = await keyUser();
    const { challenge, options } = await keyPrompt(user);
    await t.db.update(instanceSettings).set({ twoFactorEnabled: false }).where(eq(instanceSettings.id, 1));
    expect(answerOf(await finish(challenge, key.assert(options)))).toBe("challenge_expired");
  });

  it("the method security_key on an \"enroll\" challenge (even with a WebAuthn challenge bound to it): refused, spent, audited", async () => {
    const { user, key } = await keyOnlyUser();
    // An "enroll" challenge of this user, as the password step opens one for a user an admin requires 2FA of who has none.
    const enroll = (await createChallenge(t.db, user.id, "enroll"))!;
    expect(await startKeySignIn(t.db, enroll)).toEqual({ ok: false, error: "challenge_expired" });
    const webauthn = await issueWebauthnChallenge(t.db, { purpose: "sign_in", userId: user.id, signInChallengeHash: sha256Hex(enroll) });
    expect(answerOf(await finish(enroll, key.assert({ challenge: webauthn! })))).toBe("challenge_expired");
    expect(await eventNamesAbout(t.db, user.id)).toContain("sign_in.finish_refused");
    expect(await eventNamesAbout(t.db, user.id)).not.toContain("sign_in.succeeded");
  });

  /**
   * Found by this file, when a key was no factor of its own: a user without
   * TOTP could register a key, and the password alone still signed in. Now
   * the first key turns two-factor authentication on: recovery codes, other
   * sessions ended, and the password alone no longer finishes.
   */
  it("a user without two-factor authentication who adds a key: 2FA is on, and the password alone no longer signs in", async () => {
    const user = await newUser(t.db);
    const session = await confirmed(user);
    const started = await startKeyRegistration(t.db, session);
    if (!started.ok) throw new Error(started.error);
    const key = new SoftwareKey();
    const added = await finishKeyRegistration(t.db, session, key.register(started.options), "Only key", CONTEXT);
    if (!added.ok || !added.firstFactor) throw new Error("the first key did not turn 2FA on");
    expect(added.firstFactor.recoveryCodes).toHaveLength(10);
    expect(await eventNamesAbout(t.db, user.id)).toContain("two_factor.enabled");
    const challenge = await openChallenge(t.db, user);
    expect(answerOf(await completeSignIn(t.db, { challenge, method: "none", code: "" }, CONTEXT))).toBe("challenge_expired");
    const recovery = await openChallenge(t.db, user);
    expect(answerOf(await completeSignIn(t.db, { challenge: recovery, method: "recovery", code: added.firstFactor.recoveryCodes[0] }, CONTEXT))).toBe("ok");
  });

  // ---------------------------------------------------------------- malformed input

  it("malformed assertions (missing fields, huge strings, wrong types, garbage inside valid base64url): refused, no exception, nothing granted", async () => {
    const { user, key } = await keyUser();
    const huge = "A".repeat(1_000_000);
    const good = () => key.assert({ challenge: "x" });
    const withResponse = (patch: Record<string, unknown>) => {
      const a = good();
      return { ...a, response: { ...a.response, ...patch } };
    };
    const encode = (value: string) => b64(Buffer.from(value));
    const clientData = (value: unknown) => withResponse({ clientDataJSON: encode(JSON.stringify(value)) });
    const cases: [string, (options: { challenge: string }) => unknown][] = [
      ["undefined", () => undefined],
      ["null", () => null],
      ["a number", () => 42],
      ["a string", () => "assertion"],
      ["an array", () => [good()]],
      ["an empty object", () => ({})],
      ["no response", () => ({ ...good(), response: undefined })],
      ["response null", () => ({ ...good(), response: null })],
      ["no signature", (o) => withResponse({ signature: undefined, clientDataJSON: key.assert(o).response.clientDataJSON })],
      ["signature a number", () => withResponse({ signature: 1 })],
      ["huge clientDataJSON", () => withResponse({ clientDataJSON: huge })],
      ["huge id", () => ({ ...good(), id: huge, rawId: huge })],
      ["huge userHandle", () => withResponse({ userHandle: huge })],
      ["id an object", () => ({ ...good(), id: { $ne: null } })],
      ["type private-key", () => ({ ...good(), type: "private-key" })],
      ["id differs from rawId", (o) => ({ ...key.assert(o), rawId: b64(randomBytes(16)) })],
      ["clientDataJSON not JSON", () => withResponse({ clientDataJSON: encode("not json") })],
      ["clientDataJSON null", () => clientData(null)],
      ["clientDataJSON an array", () => clientData([])],
      ["challenge an object", () => clientData({ type: "webauthn.get", challenge: { length: 1 }, origin: TEST_ORIGIN })],
      ["challenge an array", (o) => clientData({ type: "webauthn.get", challenge: [o.challenge], origin: TEST_ORIGIN })],
      ["challenge a number", () => clientData({ type: "webauthn.get", challenge: 7, origin: TEST_ORIGIN })],
      ["challenge with a NUL byte", () => clientData({ type: "webauthn.get", challenge: "a\u0000b", origin: TEST_ORIGIN })],
      ["challenge huge", () => clientData({ type: "webauthn.get", challenge: "c".repeat(3000), origin: TEST_ORIGIN })],
      ["origin an object", (o) => clientData({ type: "webauthn.get", challenge: o.challenge, origin: { toString: 1 } })],
      ["tokenBinding odd", (o) => clientData({ type: "webauthn.get", challenge: o.challenge, origin: TEST_ORIGIN, tokenBinding: { status: "bogus" } })],
      ["authenticatorData too short", (o) => ({ ...key.assert(o), response: { ...key.assert(o).response, authenticatorData: b64(randomBytes(10)) } })],
      ["authenticatorData with extension flag and no extensions", (o) => {
        const a = key.assert(o);
        const data = Buffer.from(a.response.authenticatorData, "base64url");
        data[32] |= 0x80;
        return { ...a, response: { ...a.response, authenticatorData: b64(data) } };
      }],
      ["clientExtensionResults a string", (o) => ({ ...key.assert(o), clientExtensionResults: "x" })],
      ["authenticatorAttachment bogus", (o) => ({ ...key.assert(o), authenticatorAttachment: "usb" })],
      ["__proto__ in the extension results", (o) => JSON.parse(JSON.stringify(key.assert(o, { garbage: true })).replace('"clientExtensionResults":{}', '"clientExtensionResults":{"__proto__":{"verified":true}}'))],
    ];
    for (const [name, make] of cases) {
      await unlock(user.id);
      const { challenge, options } = await keyPrompt(user);
      let outcome: string;
      try {
        outcome = answerOf(await finish(challenge, make(options)));
      } catch (error) {
        outcome = `threw: ${(error as Error).message.slice(0, 100)}`;
      }
      expect(outcome, name).toBe("key_invalid");
    }
    expect(await eventNamesAbout(t.db, user.id)).not.toContain("sign_in.succeeded");
    expect(({} as Record<string, unknown>).verified).toBeUndefined();
    // The key still works afterwards.
    await unlock(user.id);
    const { challenge, options } = await keyPrompt(user);
    expect(answerOf(await finish(challenge, key.assert(options)))).toBe("ok");
  });

  /**
   * Found by this file (low), fixed: finishKeyRegistration parses nothing
   * itself (the sign-in factor has a zod schema, registration has none) and
   * @simplewebauthn checks only id === rawId: a response whose id is 1 MB and
   * not the attested credential's is accepted, and so is an attested credential
   * id over 1023 bytes (WebAuthn L3 §7.1 step "credentialId ≤ 1023 bytes") —
   * a key that lib/auth/factors/security-key.ts (id ≤ 1024 characters) can
   * then never accept, yet that is sent in every allowCredentials.
   */
  it("registration: a response id that is not the attested credential id, or a credential id over 1023 bytes: refused, nothing stored", async () => {
    const user = await enrolledUser(t.db);
    const session = await confirmed(user);
    const huge = "A".repeat(1_000_000);
    const makes: [string, (o: PublicKeyCredentialCreationOptionsJSON) => unknown][] = [
      ["a 1 MB id that is not the credential's", (o) => ({ ...new SoftwareKey().register(o), id: huge, rawId: huge })],
      [
        "another credential's id",
        (o) => {
          const other = b64(randomBytes(16));
          return { ...new SoftwareKey().register(o), id: other, rawId: other };
        },
      ],
      ["a 2000-byte credential id", (o) => new SoftwareKey({ credentialId: randomBytes(2000) }).register(o)],
    ];
    const outcomes: Record<string, unknown> = {};
    for (const [name, make] of makes) {
      const started = await startKeyRegistration(t.db, session);
      if (!started.ok) throw new Error(started.error);
      try {
        outcomes[name] = (await finishKeyRegistration(t.db, session, make(started.options) as RegistrationResponseJSON, "Odd", CONTEXT)).ok;
      } catch (error) {
        outcomes[name] = `threw: ${(error as Error).message.slice(0, 100)}`;
      }
    }
    expect(outcomes).toEqual(Object.fromEntries(makes.map(([name]) => [name, false])));
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.userId, user.id))).toEqual([]);
  });

  it("malformed registration responses: refused, no exception, nothing stored", async () => {
    const user = await enrolledUser(t.db);
    const session = await confirmed(user);
    const cases: [string, (options: PublicKeyCredentialCreationOptionsJSON) => unknown][] = [
      ["null", () => null],
      ["empty", () => ({})],
      ["response null", (o) => ({ ...new SoftwareKey().register(o), response: null })],
      ["attestationObject garbage", (o) => {
        const r = new SoftwareKey().register(o);
        return { ...r, response: { ...r.response, attestationObject: b64(randomBytes(40)) } };
      }],
      ["clientDataJSON not JSON", (o) => {
        const r = new SoftwareKey().register(o);
        return { ...r, response: { ...r.response, clientDataJSON: b64(Buffer.from("nope")) } };
      }],
    ];
    for (const [name, make] of cases) {
      const started = await startKeyRegistration(t.db, session);
      if (!started.ok) throw new Error(started.error);
      let outcome: unknown;
      try {
        outcome = await finishKeyRegistration(t.db, session, make(started.options) as RegistrationResponseJSON, "Bad", CONTEXT);
      } catch (error) {
        outcome = `threw: ${(error as Error).message.slice(0, 100)}`;
      }
      expect(outcome, name).toMatchObject({ ok: false });
    }
    expect(await t.db.select().from(securityKeys).where(eq(securityKeys.userId, user.id))).toEqual([]);
  });
});
