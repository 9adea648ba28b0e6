import "server-only";
import { and, eq, gt, isNotNull, isNull, sql } from "drizzle-orm";
import type { Database, Executor } from "@/db";
import { recoveryCodes, totpCredentials, trustedBrowsers, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { decryptSecret, encryptSecret } from "@/lib/crypto";
import { notifyTwoFactorEnabled } from "@/lib/notifications/notify";
import { getSettings } from "@/lib/settings";
import { generateRecoveryCodes, hashRecoveryCode, normaliseRecoveryCode } from "@/lib/two-factor/recovery-codes";
import { checkTotpCode, newTotpSecret, totpUri } from "@/lib/two-factor/totp";

/** An enrollment not confirmed within this time must be started again. */
export const ENROLLMENT_TTL_SECONDS = 15 * 60;

export type EnrollmentError = "two_factor_off" | "already_enabled" | "expired" | "code_invalid";

/**
 * Starts (or restarts) enrollment: a new secret, stored encrypted and not yet
 * enabled. The secret is returned this once so the browser can show it.
 */
export async function startEnrollment(
  db: Database,
  user: { id: string; email: string },
): Promise<{ ok: true; secret: string; uri: string } | { ok: false; error: EnrollmentError }> {
  const settings = await getSettings(db);
  if (!settings.twoFactorEnabled) return { ok: false, error: "two_factor_off" };
  const secret = newTotpSecret();
  const ciphertext = encryptSecret(secret, user.id);
  // Only an unconfirmed row may be replaced: an enabled credential is never overwritten here.
  const written = await db
    .insert(totpCredentials)
    .values({ userId: user.id, secretCiphertext: ciphertext })
    .onConflictDoUpdate({
      target: totpCredentials.userId,
      set: { secretCiphertext: ciphertext, createdAt: sql`now()`, lastUsedStep: null },
      setWhere: isNull(totpCredentials.enabledAt),
    })
    .returning({ userId: totpCredentials.userId });
  if (written.length === 0) return { ok: false, error: "already_enabled" };
  return { ok: true, secret, uri: totpUri(secret, user.email) };
}

/**
 * Confirms enrollment with a code from the app. In one transaction: enable,
 * consume the code's step, replace recovery codes, end other sessions, audit;
 * then, committed, the user is told by mail. Returns the recovery codes — the
 * only time they exist in plaintext.
 */
export async function confirmEnrollment(
  db: Database,
  userId: string,
  code: string,
  context: RequestContext,
): Promise<{ ok: true; recoveryCodes: string[] } | { ok: false; error: EnrollmentError }> {
  const settings = await getSettings(db);
  if (!settings.twoFactorEnabled) return { ok: false, error: "two_factor_off" };
  const [pending] = await db
    .select()
    .from(totpCredentials)
    .where(
      and(
        eq(totpCredentials.userId, userId),
        isNull(totpCredentials.enabledAt),
        gt(totpCredentials.createdAt, sql`now() - make_interval(secs => ${ENROLLMENT_TTL_SECONDS})`),
      ),
    );
  if (!pending) {
    // Either nothing is pending, or a parallel confirmation (a double submit) committed first.
    const [enabled] = await db.select({ userId: totpCredentials.userId }).from(totpCredentials).where(and(eq(totpCredentials.userId, userId), isNotNull(totpCredentials.enabledAt)));
    return { ok: false, error: enabled ? "already_enabled" : "expired" };
  }
  const check = checkTotpCode(decryptSecret(pending.secretCiphertext, userId), code, null, Math.floor(Date.now() / 1000));
  if (check.result !== "valid") return { ok: false, error: "code_invalid" };
  const codes = generateRecoveryCodes();
  const enabled = await db.transaction(async (tx) => {
    const rows = await tx
      .update(totpCredentials)
      .set({ enabledAt: sql`now()`, lastUsedStep: check.timeStep })
      .where(and(eq(totpCredentials.userId, userId), isNull(totpCredentials.enabledAt)))
      .returning({ userId: totpCredentials.userId });
    if (rows.length !== 1) return false; // a parallel confirmation won
    await tx.update(users).set({ twoFactorRequired: false }).where(eq(users.id, userId));
    await tx.delete(trustedBrowsers).where(eq(trustedBrowsers.userId, userId)); // trust given under an older secret ends
    await replaceRecoveryCodes(tx, userId, codes);
    await endSessions(tx, userId);
    await recordEvent(tx, "two_factor.enabled", { actorUserId: userId, targetUserId: userId }, context);
    return true;
  });
  if (!enabled) return { ok: false, error: "already_enabled" };
  await notifyTwoFactorEnabled(db, userId, context);
  return { ok: true, recoveryCodes: codes };
}

/** Replaces the user's recovery codes with `codes` (hashed); the old set stops working. */
export async function replaceRecoveryCodes(db: Executor, userId: string, codes: string[]): Promise<void> {
  await db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
  await db
    .insert(recoveryCodes)
    .values(codes.map((c) => ({ userId, codeHash: hashRecoveryCode(userId, normaliseRecoveryCode(c)) })));
}

/**
 * Removes the user's second factor entirely: secret, recovery codes, trusted
 * browsers. True when an enabled factor was removed (not just an unfinished enrollment).
 */
export async function removeTwoFactor(db: Executor, userId: string): Promise<boolean> {
  const removed = await db.delete(totpCredentials).where(eq(totpCredentials.userId, userId)).returning({ enabledAt: totpCredentials.enabledAt });
  await db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
  await db.delete(trustedBrowsers).where(eq(trustedBrowsers.userId, userId));
  return removed.some((row) => row.enabledAt !== null);
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
