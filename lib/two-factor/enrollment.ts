import "server-only";
import { and, eq, gt, isNotNull, isNull, sql } from "drizzle-orm";
import type { Database, Executor } from "@/db";
import { recoveryCodes, securityKeys, signInChallenges, totpCredentials, trustedBrowsers, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { decryptSecret, encryptSecret } from "@/lib/crypto";
import { notifyTwoFactorEnabled } from "@/lib/notifications/notify";
import { createChallenge } from "@/lib/auth/challenge";
import { getSettings } from "@/lib/settings";
import { requireConfirmation, type AdminSession, type ConfirmationRequired } from "@/lib/admin/step-up";
import { factorsOf } from "@/lib/two-factor/factors";
import { clearSecondFactorFailures, reserveSecondFactorAttempt } from "@/lib/two-factor/lockout";
import { generateRecoveryCodes, hashRecoveryCode, normaliseRecoveryCode } from "@/lib/two-factor/recovery-codes";
import { checkTotpCode, newTotpSecret, totpUri } from "@/lib/two-factor/totp";

/** An enrollment not confirmed within this time must be started again. */
export const ENROLLMENT_TTL_SECONDS = 15 * 60;

export type EnrollmentError = "two_factor_off" | "already_enabled" | "expired" | "code_invalid" | "locked_out";

/**
 * Where an enrollment runs: in My Settings (`challengeHash` null), or at
 * sign-in on the "enroll" challenge with this SHA-256. An enrollment is
 * confirmed only where it was started (lib/two-factor/sign-in-enrollment.ts).
 */
export type EnrollmentPlace = { challengeHash: string | null; session?: AdminSession };
const MY_SETTINGS: EnrollmentPlace = { challengeHash: null };

/**
 * The app added beside security keys is a factor added to an account that
 * has one: the session must have confirmed (with a key) within 5 minutes, as
 * for adding a key — else a stolen session of a key-only user enrolls its own
 * app and, with it, confirms the removal of the owner's key. Found by the red
 * team (tests/integration/passkey-keyonly-attacks.security.test.ts).
 */
async function confirmationFor(db: Database, userId: string, place: EnrollmentPlace): Promise<ConfirmationRequired | null> {
  if (!(await factorsOf(db, userId)).keys) return null;
  if (!place.session || place.session.id !== userId) return { ok: false, error: "confirmation_required", method: "key" };
  return requireConfirmation(db, place.session);
}

/**
 * Starts (or restarts) enrollment: a new secret, stored encrypted and not yet
 * enabled. The secret is returned this once so the browser can show it.
 */
export async function startEnrollment(
  db: Database,
  user: { id: string; email: string },
  place: EnrollmentPlace = MY_SETTINGS,
): Promise<{ ok: true; secret: string; uri: string } | { ok: false; error: EnrollmentError } | ConfirmationRequired> {
  const settings = await getSettings(db);
  if (!settings.twoFactorEnabled) return { ok: false, error: "two_factor_off" };
  const refused = await confirmationFor(db, user.id, place);
  if (refused) return refused;
  const secret = newTotpSecret();
  const ciphertext = encryptSecret(secret, user.id);
  // Only an unconfirmed row may be replaced: an enabled credential is never overwritten here.
  const written = await db
    .insert(totpCredentials)
    .values({ userId: user.id, secretCiphertext: ciphertext, enrollmentChallengeHash: place.challengeHash })
    .onConflictDoUpdate({
      target: totpCredentials.userId,
      set: { secretCiphertext: ciphertext, enrollmentChallengeHash: place.challengeHash, createdAt: sql`now()`, lastUsedStep: null },
      setWhere: isNull(totpCredentials.enabledAt),
    })
    .returning({ userId: totpCredentials.userId });
  if (written.length === 0) return { ok: false, error: "already_enabled" };
  return { ok: true, secret, uri: totpUri(secret, user.email) };
}

/**
 * Confirms enrollment with a code from the app. The attempt is reserved on
 * the sign-in lockout before the code is judged (a password holder at forced
 * enrollment must not guess the pending secret). In one transaction: enable
 * the very secret that was checked (compare-and-set on its ciphertext, so a
 * parallel Enable cannot slip in an unverified one), consume the code's step,
 * replace recovery codes, end other sessions and pending sign-ins, audit;
 * then, committed, the user is told by mail. Returns the recovery codes — the
 * only time they exist in plaintext — and, at sign-in, the "enrolled"
 * challenge that replaces the "enroll" one.
 */
export async function confirmEnrollment(
  db: Database,
  userId: string,
  code: string,
  context: RequestContext,
  place: EnrollmentPlace = MY_SETTINGS,
): Promise<{ ok: true; recoveryCodes: string[]; challenge: string | null; sessionVersion: number } | { ok: false; error: EnrollmentError } | ConfirmationRequired> {
  const settings = await getSettings(db);
  if (!settings.twoFactorEnabled) return { ok: false, error: "two_factor_off" };
  const refused = await confirmationFor(db, userId, place);
  if (refused) return refused;
  const startedHere = place.challengeHash === null ? isNull(totpCredentials.enrollmentChallengeHash) : eq(totpCredentials.enrollmentChallengeHash, place.challengeHash);
  const [pending] = await db
    .select()
    .from(totpCredentials)
    .where(
      and(
        eq(totpCredentials.userId, userId),
        isNull(totpCredentials.enabledAt),
        startedHere,
        gt(totpCredentials.createdAt, sql`now() - make_interval(secs => ${ENROLLMENT_TTL_SECONDS})`),
      ),
    );
  if (!pending) {
    // Either nothing is pending here, or a parallel confirmation (a double submit) committed first.
    const [enabled] = await db.select({ userId: totpCredentials.userId }).from(totpCredentials).where(and(eq(totpCredentials.userId, userId), isNotNull(totpCredentials.enabledAt)));
    return { ok: false, error: enabled ? "already_enabled" : "expired" };
  }
  const attempt = await reserveSecondFactorAttempt(db, userId);
  if (!attempt.allowed) {
    await recordEvent(db, "sign_in.locked_attempt", { actorUserId: userId, targetUserId: userId }, context, { during: "enrollment" });
    return { ok: false, error: "locked_out" };
  }
  const check = checkTotpCode(decryptSecret(pending.secretCiphertext, userId), code, null, Math.floor(Date.now() / 1000));
  if (check.result !== "valid") return refuseEnrollmentCode(db, userId, context, attempt.locks);
  const codes = generateRecoveryCodes();
  const enabled = await db.transaction(async (tx) => {
    const rows = await tx
      .update(totpCredentials)
      .set({ enabledAt: sql`now()`, lastUsedStep: check.timeStep, enrollmentChallengeHash: null })
      .where(and(eq(totpCredentials.userId, userId), isNull(totpCredentials.enabledAt), eq(totpCredentials.secretCiphertext, pending.secretCiphertext)))
      .returning({ userId: totpCredentials.userId });
    if (rows.length !== 1) return null; // a parallel confirmation won, or a parallel Enable replaced the secret
    await tx.update(users).set({ twoFactorRequired: false }).where(eq(users.id, userId));
    await tx.delete(trustedBrowsers).where(eq(trustedBrowsers.userId, userId)); // trust given under an older secret ends
    await replaceRecoveryCodes(tx, userId, codes);
    const sessionVersion = await endSessions(tx, userId);
    await clearSecondFactorFailures(tx, userId);
    await recordEvent(tx, "two_factor.enabled", { actorUserId: userId, targetUserId: userId }, context);
    // Created after the writes above, whose triggers end every pending sign-in of this user.
    return { challenge: place.challengeHash === null ? null : await createChallenge(tx, userId, "enrolled"), sessionVersion };
  });
  if (!enabled) {
    const [row] = await db.select({ enabledAt: totpCredentials.enabledAt }).from(totpCredentials).where(eq(totpCredentials.userId, userId));
    return { ok: false, error: row?.enabledAt ? "already_enabled" : "expired" };
  }
  await notifyTwoFactorEnabled(db, userId, context);
  return { ok: true, recoveryCodes: codes, challenge: enabled.challenge, sessionVersion: enabled.sessionVersion };
}

/** A wrong enrollment code, already counted by its reservation: audited like one at sign-in. */
async function refuseEnrollmentCode(db: Database, userId: string, context: RequestContext, locked: boolean): Promise<{ ok: false; error: EnrollmentError }> {
  await db.transaction(async (tx) => {
    await recordEvent(tx, "sign_in.code_failed", { actorUserId: userId, targetUserId: userId }, context, { during: "enrollment" });
    if (locked) await recordEvent(tx, "sign_in.locked_out", { targetUserId: userId }, context);
  });
  return { ok: false, error: locked ? "locked_out" : "code_invalid" };
}

/** Replaces the user's recovery codes with `codes` (hashed); the old set stops working. */
export async function replaceRecoveryCodes(db: Executor, userId: string, codes: string[]): Promise<void> {
  await db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
  await db
    .insert(recoveryCodes)
    .values(codes.map((c) => ({ userId, codeHash: hashRecoveryCode(userId, normaliseRecoveryCode(c)) })));
}

/**
 * Removes the user's second factor entirely: secret, recovery codes, security keys, trusted
 * browsers, and the lockout of the factor that is gone — otherwise an
 * attacker's wrong codes before an admin's reset would still lock the owner
 * out of enrolling anew. True when an enabled factor was removed (the app or
 * a key; not just an unfinished enrollment).
 */
export async function removeTwoFactor(db: Executor, userId: string): Promise<boolean> {
  return (await removeSecondFactors(db, userId)).hadTwoFactor;
}

/**
 * removeTwoFactor, also saying how many security keys went with it (the
 * CLI's reset-2fa prints it): counted by the DELETE itself, so a key added
 * meanwhile is neither missed nor counted without being removed. A key alone
 * is a second factor (lib/two-factor/factors.ts): removing one is removing 2FA.
 */
export async function removeSecondFactors(db: Executor, userId: string): Promise<{ hadTwoFactor: boolean; securityKeys: number }> {
  // Pending sign-ins first, as a sign-in's finish takes them (challenge, then factor): waits instead of deadlocks.
  await db.delete(signInChallenges).where(eq(signInChallenges.userId, userId));
  // The keys before the app: deleting the app locks the user's row (the counters' trigger, migration 0013), and a
  // key's removal takes key then user — keys deleted after the app deadlocked with it (user then key).
  await db.select({ id: securityKeys.id }).from(securityKeys).where(eq(securityKeys.userId, userId)).for("update");
  const removed = await db.delete(totpCredentials).where(eq(totpCredentials.userId, userId)).returning({ enabledAt: totpCredentials.enabledAt });
  await db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
  await db.delete(trustedBrowsers).where(eq(trustedBrowsers.userId, userId));
  const keys = await db.delete(securityKeys).where(eq(securityKeys.userId, userId)).returning({ id: securityKeys.id });
  await clearSecondFactorFailures(db, userId);
  return { hadTwoFactor: removed.some((row) => row.enabledAt !== null) || keys.length > 0, securityKeys: keys.length };
}

/** Bumps sessionVersion: every JWT issued before now stops working at its next request. */
export async function endSessions(db: Executor, userId: string): Promise<number> {
  const [row] = await db
    .update(users)
    .set({ sessionVersion: sql`${users.sessionVersion} + 1` })
    .where(eq(users.id, userId))
    .returning({ sessionVersion: users.sessionVersion });
  return row.sessionVersion;
}
