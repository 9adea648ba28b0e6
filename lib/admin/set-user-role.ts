import "server-only";
import { eq } from "drizzle-orm";
import type { Executor } from "@/db";
import { users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";

export type Role = "admin" | "user";
export type SetUserRoleResult = { ok: true; changed: boolean } | { ok: false; error: "not_found" | "last_admin" };

/**
 * Makes a user an administrator or takes it away, with its "user.changed"
 * audit entry, in one transaction (a savepoint inside the caller's). Refuses
 * to demote the last administrator: nobody could administer the instance.
 * The session needs no bump: every request re-reads the role from the database.
 */
export async function setUserRole(
  db: Executor,
  userId: string,
  role: Role,
  actorUserId: string | null,
  context: RequestContext,
  details: Record<string, string> = {},
): Promise<SetUserRoleResult> {
  return db.transaction(async (tx) => {
    const anotherAdmin = await hasAnotherAdmin(tx, userId);
    const [user] = await tx.select({ role: users.role }).from(users).where(eq(users.id, userId)).for("update");
    if (!user) return { ok: false, error: "not_found" };
    if (user.role === role) return { ok: true, changed: false };
    if (role === "user" && !anotherAdmin) return { ok: false, error: "last_admin" };
    await tx.update(users).set({ role }).where(eq(users.id, userId));
    // The same detail as User properties → Administrator records.
    await recordEvent(tx, "user.changed", { actorUserId, targetUserId: userId }, context, { admin: role === "admin", ...details });
    return { ok: true, changed: true };
  });
}

/**
 * Whether an administrator other than `userId` exists. Locks every administrator
 * row first: two admins demoting each other at once would otherwise each still
 * see the other and both succeed; with the lock the second waits, re-reads the
 * first's demotion and is refused. Call it inside the demoting transaction.
 */
export async function hasAnotherAdmin(tx: Executor, userId: string): Promise<boolean> {
  const admins = await tx.select({ id: users.id }).from(users).where(eq(users.role, "admin")).for("update");
  return admins.some((admin) => admin.id !== userId);
}
