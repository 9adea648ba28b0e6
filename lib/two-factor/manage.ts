import "server-only";
import { cache } from "react";
import { and, count, eq, isNull } from "drizzle-orm";
import type { Database } from "@/db";
import { recoveryCodes, totpCredentials } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { notifyRecoveryCodesRegenerated, notifyTwoFactorDisabled } from "@/lib/notifications/notify";
import { getSettings } from "@/lib/settings";
import { policyStatus } from "@/lib/two-factor/policy";
import { verifyCurrentCode, type CurrentCodeResult } from "@/lib/two-factor/current-code";
import { endSessions, removeTwoFactor, replaceRecoveryCodes } from "@/lib/two-factor/enrollment";
import { generateRecoveryCodes } from "@/lib/two-factor/recovery-codes";

export type TwoFactorStatus = {
  instanceEnabled: boolean;
  enabled: boolean;
  recoveryCodesLeft: number;
  /** Days left before the enforcement policy requires enrollment; null when it does not apply. */
  requiredInDays: number | null;
};

/** What My Settings shows. Nothing secret. Cached per request: the layout and the home page both ask. */
export const twoFactorStatus = cache(async (db: Database, userId: string, role: "admin" | "user"): Promise<TwoFactorStatus> => {
  const [settings, [credential], [codes]] = await Promise.all([
    getSettings(db),
    db.select({ enabledAt: totpCredentials.enabledAt }).from(totpCredentials).where(eq(totpCredentials.userId, userId)),
    db
      .select({ left: count() })
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt))),
  ]);
  const enabled = !!credential?.enabledAt;
  const policy = enabled ? null : policyStatus(settings, role);
  return {
    instanceEnabled: settings.twoFactorEnabled,
    enabled,
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
): Promise<CurrentCodeResult> {
  const verdict = await verifyCurrentCode(db, userId, code, context);
  if (verdict !== "ok") return verdict;
  await db.transaction(async (tx) => {
    await removeTwoFactor(tx, userId);
    await endSessions(tx, userId);
    await recordEvent(tx, "two_factor.disabled", { actorUserId: userId, targetUserId: userId }, context);
  });
  await notifyTwoFactorDisabled(db, userId, context);
  return "ok";
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
  const codes = generateRecoveryCodes();
  await db.transaction(async (tx) => {
    await replaceRecoveryCodes(tx, userId, codes);
    await recordEvent(tx, "recovery_codes.regenerated", { actorUserId: userId, targetUserId: userId }, context);
  });
  await notifyRecoveryCodesRegenerated(db, userId, context);
  return { ok: true, recoveryCodes: codes };
}
