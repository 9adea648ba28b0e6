import "server-only";
import { eq } from "drizzle-orm";
import type { Executor } from "@/db";
import { instanceSettings, users } from "@/db/schema";
import { hasSecurityKeySql } from "@/lib/two-factor/factors";

/**
 * Require a security key for administrators: an administrator without a key
 * keeps their account (they sign in as before, and can add a key in My
 * Settings), but their administrator's powers wait until they have one —
 * pages send them to add one, actions refuse. So nobody is locked out, the
 * last administrator included. One query: the setting and the user's keys.
 */
export async function adminKeyMissing(db: Executor, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ required: instanceSettings.requireSecurityKeyForAdmins, role: users.role, hasKey: hasSecurityKeySql(users.id) })
    .from(users)
    .leftJoin(instanceSettings, eq(instanceSettings.id, 1))
    .where(eq(users.id, userId));
  return !!row?.required && row.role === "admin" && !row.hasKey;
}
