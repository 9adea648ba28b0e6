import "server-only";
import { and, asc, eq } from "drizzle-orm";
import type { Database, Executor, Transaction } from "@/db";
import { securityKeys, signInChallenges, totpCredentials, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { requireConfirmation, type AdminSession, type ConfirmationRequired } from "@/lib/admin/step-up";
import { notifySecurityKeyRemoved, notifyTwoFactorDisabled } from "@/lib/notifications/notify";
import { endSessions, removeTwoFactor } from "@/lib/two-factor/enrollment";
import { forgetTrustedBrowsers } from "@/lib/two-factor/trusted-browsers";

/** What My Settings and User properties show of a key: never the public key or the credential id. */
export type SecurityKeySummary = {
  id: string;
  name: string;
  /** Synced between the owner's devices (a passkey in a password manager), or bound to one authenticator. */
  synced: boolean;
  /** Registered as discoverable with user verification: it could sign in alone (passkey sign-in, later). */
  passkey: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
};

export async function listSecurityKeys(db: Executor, userId: string): Promise<SecurityKeySummary[]> {
  const rows = await db.select().from(securityKeys).where(eq(securityKeys.userId, userId)).orderBy(asc(securityKeys.createdAt));
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    synced: row.deviceType === "multiDevice",
    passkey: row.userVerified && row.discoverable === true,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
  }));
}

/** Renames one of the user's own keys; false when there is no such key of theirs. */
export async function renameSecurityKey(db: Database, userId: string, keyId: string, name: string, context: RequestContext): Promise<boolean> {
  return db.transaction(async (tx) => {
    const renamed = await tx
      .update(securityKeys)
      .set({ name })
      .where(and(eq(securityKeys.id, keyId), eq(securityKeys.userId, userId)))
      .returning({ id: securityKeys.id });
    if (renamed.length === 0) return false;
    await recordEvent(tx, "security_key.renamed", { actorUserId: userId, targetUserId: userId }, context, { name });
    return true;
  });
}

/**
 * Removes one of the user's own keys, once this session has confirmed (a key
 * fewer is a factor fewer), and tells the owner by mail. The user's pending
 * sign-ins and trusted browsers end with it. The last second factor taken away turns 2FA off, as
 * Disable does: recovery codes and trusted browsers go, other sessions end
 * (`sessionVersion`: this one is re-issued at it).
 */
export async function removeSecurityKey(
  db: Database,
  session: AdminSession,
  keyId: string,
  context: RequestContext,
): Promise<{ ok: true; twoFactorOff: { sessionVersion: number } | null } | ConfirmationRequired | { ok: false; error: "not_found" }> {
  const result = await db.transaction(async (tx) => {
    const refused = await requireConfirmation(tx, session);
    if (refused) return refused;
    // The pending sign-ins first, then the key: the order a sign-in's finish takes them in (challenge, then key),
    // so the two wait for each other instead of deadlocking. The key's trigger would end them after it.
    await tx.delete(signInChallenges).where(eq(signInChallenges.userId, session.id));
    const [removed] = await tx
      .delete(securityKeys)
      .where(and(eq(securityKeys.id, keyId), eq(securityKeys.userId, session.id)))
      .returning({ name: securityKeys.name });
    if (!removed) return { ok: false, error: "not_found" } as const;
    await recordEvent(tx, "security_key.removed", { actorUserId: session.id, targetUserId: session.id }, context, { name: removed.name });
    // A browser may have been trusted with this very key (borrowed, or in a thief's hands a moment): trust ends with it,
    // as with every other factor taken away. Which factor trusted a browser is not recorded, so all of them go.
    await forgetTrustedBrowsers(tx, session.id, null, session.id, context, "security_key_removed");
    const twoFactorOff = await endTwoFactorIfNoFactorLeft(tx, session.id, context);
    return { ok: true, name: removed.name, twoFactorOff } as const;
  });
  if (!result.ok) return result;
  await notifySecurityKeyRemoved(db, session.id, result.name, context);
  if (result.twoFactorOff) await notifyTwoFactorDisabled(db, session.id, context);
  return { ok: true, twoFactorOff: result.twoFactorOff };
}

/**
 * After a key was removed: with no key and no authenticator app left, 2FA is
 * off, as after Disable. The user's row is locked first (after the key, the
 * order a sign-in's finish takes them in): of two last keys removed at once,
 * the later removal sees the earlier one and ends 2FA. FOR NO KEY UPDATE,
 * not FOR UPDATE: each removal's audit entry has already taken a key-share
 * lock on this row (its foreign key), which FOR UPDATE waits for — two
 * removals deadlocked so, each waiting for the other's audit entry.
 */
export async function endTwoFactorIfNoFactorLeft(tx: Transaction, userId: string, context: RequestContext): Promise<{ sessionVersion: number } | null> {
  await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for("no key update");
  const [key] = await tx.select({ id: securityKeys.id }).from(securityKeys).where(eq(securityKeys.userId, userId)).limit(1);
  const [totp] = await tx.select({ enabledAt: totpCredentials.enabledAt }).from(totpCredentials).where(eq(totpCredentials.userId, userId));
  if (key || totp?.enabledAt) return null;
  await removeTwoFactor(tx, userId);
  const sessionVersion = await endSessions(tx, userId);
  await recordEvent(tx, "two_factor.disabled", { actorUserId: userId, targetUserId: userId }, context, { lastFactor: "security_key" });
  return { sessionVersion };
}
