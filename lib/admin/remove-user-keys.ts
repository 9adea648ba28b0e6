import "server-only";
import { and, eq } from "drizzle-orm";
import type { Database, Transaction } from "@/db";
import { securityKeys, signInChallenges, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { requireConfirmation, type AdminSession, type ConfirmationRequired } from "@/lib/admin/step-up";
import { notifySecurityKeyRemoved, notifyTwoFactorRemoved } from "@/lib/notifications/notify";
import { endSessions, removeTwoFactor } from "@/lib/two-factor/enrollment";
import { factorsOf, hasAnyFactor } from "@/lib/two-factor/factors";
import { forgetTrustedBrowsers } from "@/lib/two-factor/trusted-browsers";

/** One key by its id, or every key the user has when the removal runs. */
export type KeysToRemove = { keyId: string } | "all";

export type RemoveUserKeysResult =
  | { ok: true; removed: number; twoFactorOff: boolean }
  | ConfirmationRequired
  | { ok: false; error: "not_allowed" | "not_found" };

/**
 * User properties → Remove / Remove all: an administrator removes security
 * keys of another user (or their own). A key fewer is a factor fewer, so it
 * waits for this session's fresh confirmation, like unticking 2FA. One
 * transaction: the user's pending sign-ins end, the key(s) go, one audit
 * entry per key (actor: the admin), and the user's trusted browsers end (one
 * may have been trusted with a removed key). Taking the last second factor
 * removes 2FA as unticking it does (recovery codes, sessions). After the
 * commit the owner is mailed, once per key, naming the administrator. A key
 * id that is not this user's removes nothing, and ends nothing.
 */
export async function removeUserSecurityKeys(
  db: Database,
  session: AdminSession,
  userId: string,
  which: KeysToRemove,
  context: RequestContext,
): Promise<RemoveUserKeysResult> {
  const result = await db.transaction(async (tx) => {
    // The role is read here, not trusted from the caller: a user's own confirmation (My Settings asks for one
    // too) must not let them remove someone else's keys through this function.
    if (!(await isAdmin(tx, session.id))) return { ok: false, error: "not_allowed" } as const;
    const refused = await requireConfirmation(tx, session);
    if (refused) return refused;
    return deleteKeys(tx, session, userId, which, context);
  });
  if (!result.ok) return result;
  for (const name of result.names) await notifySecurityKeyRemoved(db, userId, name, context, session.id);
  if (result.twoFactorOff) await notifyTwoFactorRemoved(db, userId, context, "admin");
  return { ok: true, removed: result.names.length, twoFactorOff: result.twoFactorOff };
}

async function isAdmin(tx: Transaction, id: string): Promise<boolean> {
  const [row] = await tx.select({ role: users.role }).from(users).where(eq(users.id, id));
  return row?.role === "admin";
}

async function deleteKeys(tx: Transaction, session: AdminSession, userId: string, which: KeysToRemove, context: RequestContext) {
  const ofUser = which === "all" ? eq(securityKeys.userId, userId) : and(eq(securityKeys.id, which.keyId), eq(securityKeys.userId, userId));
  // Read without a lock: locking the key here would take it before the challenges, the reverse of a sign-in's order.
  const [exists] = await tx.select({ id: securityKeys.id }).from(securityKeys).where(ofUser).limit(1);
  if (!exists) return { ok: false, error: "not_found" } as const;
  // The pending sign-ins first, then the keys: the order a sign-in's finish takes them in (challenge, then key),
  // so the two wait for each other instead of deadlocking (as removeSecurityKey, lib/security-keys/manage.ts).
  await tx.delete(signInChallenges).where(eq(signInChallenges.userId, userId));
  const removed = await tx.delete(securityKeys).where(ofUser).returning({ name: securityKeys.name });
  // Removed meanwhile by the owner or another admin (whose removal ended the pending sign-ins too): nothing to tell.
  if (removed.length === 0) return { ok: false, error: "not_found" } as const;
  const who = { actorUserId: session.id, targetUserId: userId };
  for (const { name } of removed) await recordEvent(tx, "security_key.removed", who, context, { name, by: "admin" });
  // Which factor trusted a browser is not recorded: all of the user's trusted browsers go, as when the owner removes a key.
  await forgetTrustedBrowsers(tx, userId, null, session.id, context, "security_key_removed");
  const twoFactorOff = await removeTwoFactorIfNoFactorLeft(tx, userId, who, context);
  return { ok: true, names: removed.map((key) => key.name), twoFactorOff } as const;
}

/**
 * With no key and no authenticator app left, 2FA is removed as an admin's
 * unticking removes it: recovery codes go, the user's sessions end. The
 * user's row is locked first (after the keys, the order a sign-in's finish
 * takes them in): of two last keys removed at once, the later removal sees
 * the earlier one.
 */
async function removeTwoFactorIfNoFactorLeft(tx: Transaction, userId: string, who: { actorUserId: string; targetUserId: string }, context: RequestContext): Promise<boolean> {
  await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for("no key update");
  if (hasAnyFactor(await factorsOf(tx, userId))) return false;
  await removeTwoFactor(tx, userId);
  await endSessions(tx, userId);
  await recordEvent(tx, "two_factor.removed_by_admin", who, context, { lastFactor: "security_key" });
  return true;
}
