import "server-only";
import { cache } from "react";
import { and, count, eq, isNull } from "drizzle-orm";
import type { Database } from "@/db";
import { recoveryCodes } from "@/db/schema";
import { requireConfirmation, type AdminSession, type ConfirmationRequired } from "@/lib/admin/step-up";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { notifyRecoveryCodesRegenerated, notifyTwoFactorDisabled } from "@/lib/notifications/notify";
import { getSettings } from "@/lib/settings";
import { factorsOf, hasAnyFactor } from "@/lib/two-factor/factors";
import { policyStatus } from "@/lib/two-factor/policy";
import { verifyCurrentCode, type CurrentCodeResult } from "@/lib/two-factor/current-code";
import { endSessions, removeTwoFactor, replaceRecoveryCodes } from "@/lib/two-factor/enrollment";
import { generateRecoveryCodes } from "@/lib/two-factor/recovery-codes";

export type TwoFactorStatus = {
  instanceEnabled: boolean;
  /** At least one second factor: the authenticator app (`totp`) or a security key. */
  enabled: boolean;
  totp: boolean;
  /** The instance allows Sign in with a passkey (My Settings says which keys can). */
  passkeySignIn: boolean;
  recoveryCodesLeft: number;
  /** Days left before the enforcement policy requires enrollment; null when it does not apply. */
  requiredInDays: number | null;
};

/** What My Settings shows. Nothing secret. Cached per request: the layout and the home page both ask. */
export const twoFactorStatus = cache(async (db: Database, userId: string, role: "admin" | "user"): Promise<TwoFactorStatus> => {
  const [settings, factors, [codes]] = await Promise.all([
    getSettings(db),
    factorsOf(db, userId),
    db
      .select({ left: count() })
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt))),
  ]);
  const totp = factors.totp;
  const enabled = hasAnyFactor(factors);
  const policy = enabled ? null : policyStatus(settings, role);
  return {
    instanceEnabled: settings.twoFactorEnabled,
    enabled,
    totp,
    passkeySignIn: settings.passkeySignInEnabled,
    recoveryCodesLeft: codes.left,
    requiredInDays: policy?.kind === "grace" ? policy.daysLeft : policy?.kind === "due" ? 0 : null,
  };
});

/** Disables 2FA after a current code; ends every other session; tells the user by mail. */
export async function disableTwoFactor(
  db: Database,
  userId: string,
  code: string,
  context: RequestContext,
): Promise<{ ok: true; sessionVersion: number } | Exclude<CurrentCodeResult, "ok">> {
  const verdict = await verifyCurrentCode(db, userId, code, context);
  if (verdict !== "ok") return verdict;
  return { ok: true, sessionVersion: await turnTwoFactorOff(db, userId, context) };
}

/**
 * Disable for a user who has no authenticator app (security keys only): this
 * session confirmed with a key within the last 5 minutes.
 */
export async function disableTwoFactorConfirmed(db: Database, session: AdminSession, context: RequestContext): Promise<{ ok: true; sessionVersion: number } | ConfirmationRequired> {
  const refused = await requireConfirmation(db, session);
  if (refused) return refused;
  return { ok: true, sessionVersion: await turnTwoFactorOff(db, session.id, context) };
}

/** Every factor removed, every other session ended, on record; the user is told by mail. */
async function turnTwoFactorOff(db: Database, userId: string, context: RequestContext): Promise<number> {
  const sessionVersion = await db.transaction(async (tx) => {
    await removeTwoFactor(tx, userId);
    const version = await endSessions(tx, userId);
    await recordEvent(tx, "two_factor.disabled", { actorUserId: userId, targetUserId: userId }, context);
    return version;
  });
  await notifyTwoFactorDisabled(db, userId, context);
  return sessionVersion;
}

/** A new set of recovery codes after a current code; the old set stops working; the user is told by mail. */
export async function regenerateRecoveryCodes(
  db: Database,
  userId: string,
  code: string,
  context: RequestContext,
): Promise<{ ok: true; recoveryCodes: string[] } | { ok: false; error: Exclude<CurrentCodeResult, "ok"> }> {
  const verdict = await verifyCurrentCode(db, userId, code, context);
  if (verdict !== "ok") return { ok: false, error: verdict };
  return { ok: true, recoveryCodes: await newRecoveryCodes(db, userId, context) };
}

/** New recovery codes for a user who has security keys only: this session confirmed with a key. */
export async function regenerateRecoveryCodesConfirmed(db: Database, session: AdminSession, context: RequestContext): Promise<{ ok: true; recoveryCodes: string[] } | ConfirmationRequired> {
  const refused = await requireConfirmation(db, session);
  if (refused) return refused;
  return { ok: true, recoveryCodes: await newRecoveryCodes(db, session.id, context) };
}

async function newRecoveryCodes(db: Database, userId: string, context: RequestContext): Promise<string[]> {
  const codes = generateRecoveryCodes();
  await db.transaction(async (tx) => {
    await replaceRecoveryCodes(tx, userId, codes);
    await recordEvent(tx, "recovery_codes.regenerated", { actorUserId: userId, targetUserId: userId }, context);
  });
  await notifyRecoveryCodesRegenerated(db, userId, context);
  return codes;
}
