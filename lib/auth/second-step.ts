import "server-only";
import { randomUUID } from "node:crypto";
import { and, eq, gt, sql } from "drizzle-orm";
import type { Database } from "@/db";
import { preparedPerDatabase } from "@/db/prepared";
import { instanceSettings, signInChallenges, totpCredentials, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { consumeChallenge } from "@/lib/auth/challenge";
import { sha256Hex } from "@/lib/crypto";
import { notifyCodeRefused } from "@/lib/notifications/notify";
import { getSettings } from "@/lib/settings";
import { hasSecurityKeySql } from "@/lib/two-factor/factors";
import { reserveSecondFactorAttempt } from "@/lib/two-factor/lockout";
import { enrollment } from "./factors/enrollment";
import type { Attempt, Factor, Refusal } from "./factors/factor";
import { passwordOnly } from "./factors/password-only";
import { recoveryCode } from "./factors/recovery-code";
import { securityKey } from "./factors/security-key";
import { totp } from "./factors/totp";
import { trustedBrowser } from "./factors/trusted-browser";
import { finishSecondStep } from "./second-step-finish";

/**
 * "enrolled": the forced enrollment of this very challenge was just confirmed with a code
 * (the challenge is then of purpose "enrolled").
 * "trusted": a trusted-browser token stands in for the code (never for the password).
 */
export type SecondStepMethod = "totp" | "recovery" | "none" | "enrolled" | "trusted" | "security_key";
export type SecondStepError = "challenge_expired" | "code_invalid" | "recovery_invalid" | "locked_out" | "not_trusted" | "key_invalid";
/** `assertion`: the browser's WebAuthn answer, for "security_key" (its shape is checked by the factor). */
export type SecondStepInput = { challenge: string; method: SecondStepMethod; code: string; trust?: boolean; trustToken?: string; assertion?: unknown };
export type SignedInUser = { id: string; name: string; email: string; role: "admin" | "user"; sessionVersion: number };
/**
 * `sid`: the session whose row the finish wrote (the JWT carries it); `trustToken`: set when the user asked to
 * trust this browser; the caller puts it in a cookie.
 */
export type SecondStepResult = { ok: true; user: SignedInUser; sid: string; trustToken?: string } | { ok: false; error: SecondStepError };

/** Each way to finish, answering only "does this proof satisfy this challenge for this user?" (lib/auth/factors). */
const FACTORS: Record<SecondStepMethod, Factor> = {
  none: passwordOnly,
  enrolled: enrollment,
  trusted: trustedBrowser,
  totp,
  recovery: recoveryCode,
  security_key: securityKey,
};

/**
 * Step 2, called only from Auth.js `authorize()`: the session is issued if
 * and only if this returns ok. The one place that reads the challenge,
 * refuses a finish the challenge does not qualify for, reserves a guessable
 * factor's attempt before it is judged, and consumes the challenge with the
 * factor (lib/auth/second-step-finish.ts).
 */
export async function completeSignIn(db: Database, input: SecondStepInput, context: RequestContext): Promise<SecondStepResult> {
  const row = await loadChallenge(db, input.challenge);
  if (!row) return { ok: false, error: "challenge_expired" };
  const factor = Object.hasOwn(FACTORS, input.method) ? FACTORS[input.method] : null;
  // The settings row comes with the challenge; only before the first settings read ever is it missing.
  const attempt: Attempt = { db, input, ...row, settings: row.settings ?? (await getSettings(db)), context };
  // An "enroll" challenge only starts and confirms its own enrollment (lib/two-factor/sign-in-enrollment.ts).
  if (!factor || row.challenge.purpose === "enroll" || !factor.qualifies(attempt)) return refuseFinish(attempt);

  // Reserved before the proof is judged: of parallel guesses, at most the lock's allowance is ever judged. Not in
  // the statement that reads the challenge: a finish that does not qualify judges nothing, so it must count nothing.
  const reservation = factor.guessable ? await reserveSecondFactorAttempt(db, row.user.id) : { allowed: true, locks: false };
  if (!reservation.allowed) return refuseLocked(attempt);
  const refuse = (refusal: Refusal) => (factor.guessable ? refuseGuess(attempt, refusal, reservation.locks) : refuseProof(attempt, refusal));

  const verdict = await factor.verify(attempt);
  if (!verdict.ok) return refuse(verdict);
  // The JWT will carry the version read with the challenge: if a sign-out everywhere moved it meanwhile, the new
  // session is already over at its first request (lib/auth/session-records.ts).
  const session = { sid: randomUUID(), userId: row.user.id, sessionVersion: row.user.sessionVersion };
  const finished = await finishSecondStep(db, input.challenge, session, verdict, factor.guessable, context);
  if (!finished.ok) {
    if (finished.lost === "factor" && verdict.lost) return refuse(verdict.lost);
    // A parallel finish took the challenge after this attempt was counted: the count stays (it may even have started
    // the lock), so it goes on record and to the user like any counted guess — else a password holder could spend
    // the challenge under their own guesses and lock the owner out without a trace.
    // The answer stays "challenge_expired": the browser starts again from the password.
    if (factor.guessable) await refuseGuess(attempt, { error: "challenge_expired", event: "sign_in.code_failed" }, reservation.locks);
    return { ok: false, error: "challenge_expired" };
  }
  await verdict.afterCommit?.();
  return { ok: true, user: signedInUser(row.user), sid: session.sid, trustToken: finished.consumed.trustToken };
}

/** The live challenge with everything the factors judge, in one prepared statement. */
async function loadChallenge(db: Database, token: string) {
  if (!token || token.length > 100) return null;
  const [row] = await challengeWithAccount(db).execute({ tokenHash: sha256Hex(token) });
  return row ?? null;
}

const challengeWithAccount = preparedPerDatabase((db: Database) =>
  db
    .select({ user: users, credential: totpCredentials, hasKey: hasSecurityKeySql(users.id), challenge: signInChallenges, settings: instanceSettings })
    .from(signInChallenges)
    .innerJoin(users, eq(users.id, signInChallenges.userId))
    .leftJoin(totpCredentials, eq(totpCredentials.userId, users.id))
    .leftJoin(instanceSettings, eq(instanceSettings.id, 1))
    .where(and(eq(signInChallenges.tokenHash, sql.placeholder("tokenHash")), gt(signInChallenges.expiresAt, sql`now()`)))
    .prepare("challenge_with_account"),
);

function signedInUser({ id, name, email, role, sessionVersion }: typeof users.$inferSelect): SignedInUser {
  return { id, name, email, role, sessionVersion };
}

/**
 * A refused guess, already counted by its reservation: audited (with the lock
 * it started, if it was the last attempt allowed); then the user is told by
 * mail (at most once an hour) — only a correct password leads here, so the
 * mail means the password is known.
 */
async function refuseGuess({ db, user, context }: Attempt, { error, event }: Refusal, locked: boolean): Promise<SecondStepResult> {
  await db.transaction(async (tx) => {
    await recordEvent(tx, event, { targetUserId: user.id }, context);
    if (locked) await recordEvent(tx, "sign_in.locked_out", { targetUserId: user.id }, context);
  });
  await notifyCodeRefused(db, user.id, context, locked);
  return { ok: false, error: locked ? "locked_out" : error };
}

/** A proof that cannot be guessed (a trust token), refused: on record, and the challenge stays for a code. */
async function refuseProof({ db, user, context }: Attempt, { error, event }: Refusal): Promise<SecondStepResult> {
  await recordEvent(db, event, { targetUserId: user.id }, context);
  return { ok: false, error };
}

/** A proof sent while the second step is locked: not judged, but on record, so a guessing campaign stays visible. */
async function refuseLocked({ db, user, input, context }: Attempt): Promise<SecondStepResult> {
  await recordEvent(db, "sign_in.locked_attempt", { targetUserId: user.id }, context, { method: input.method });
  return { ok: false, error: "locked_out" };
}

/**
 * A live challenge asked to finish in a way its user does not qualify for
 * (an "enroll" challenge claiming an enrollment, the password alone where a
 * code is due): never what the app's own pages send, so the challenge is
 * spent and the attempt audited.
 */
async function refuseFinish({ db, input, user, context }: Attempt): Promise<SecondStepResult> {
  await db.transaction(async (tx) => {
    await consumeChallenge(tx, input.challenge);
    await recordEvent(tx, "sign_in.finish_refused", { targetUserId: user.id }, context, { method: input.method });
  });
  return { ok: false, error: "challenge_expired" };
}
