import "server-only";
import { eq, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { securityKeys, totpCredentials, userCounts } from "@/db/schema";

/**
 * The totals kept by the triggers of migration 0006, read in one row: the
 * same cost at any number of users (`count(*)` read all 100 000 rows, ~20 ms).
 * Exact as of the statement's snapshot, like the count it replaces.
 */
async function readCounts(db: Executor): Promise<{ users: number; enrolled: number }> {
  const [row] = await db.select({ users: userCounts.users, enrolled: userCounts.enrolled }).from(userCounts).where(eq(userCounts.id, 1));
  return row;
}

/** Every user. */
export async function countUsers(db: Executor): Promise<number> {
  return (await readCounts(db)).users;
}

/**
 * Users whose 2FA is enrolled: an enabled authenticator app (an enrollment in
 * progress does not count), or a security key (a key alone is a second factor,
 * lib/two-factor/factors.ts). The counter counts the apps; users with keys
 * and no app are counted here, in the same statement (one snapshot), at a cost
 * that follows the keys: one probe of totp_credentials' primary key per user
 * with a key (a scalar subquery: NOT EXISTS was planned as a hash of every
 * enabled credential, ~10 ms at 25 000).
 */
export async function countEnrolledUsers(db: Executor): Promise<number> {
  const keysOnly = sql<number>`(select count(*) from (select distinct ${securityKeys.userId} as user_id from ${securityKeys}) keyed
    where (select ${totpCredentials.enabledAt} from ${totpCredentials} where ${totpCredentials.userId} = keyed.user_id) is null)`;
  const [row] = await db
    .select({ enrolled: sql<number>`${userCounts.enrolled} + ${keysOnly}`.mapWith(Number) })
    .from(userCounts)
    .where(eq(userCounts.id, 1));
  return row.enrolled;
}
