import "server-only";
import { and, eq, isNull, lte, or, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { users } from "@/db/schema";

/** Consecutive wrong codes (TOTP or recovery, one counter) before the second step locks. */
export const MAX_SECOND_FACTOR_FAILURES = 5;
/** First lock; each further lock doubles it, up to a day. */
export const LOCKOUT_BASE_SECONDS = 15 * 60;
const LOCKOUT_MAX_SECONDS = 24 * 60 * 60;

export function isLockedOut(user: { secondFactorLockedUntil: Date | null }, now = new Date()): boolean {
  return user.secondFactorLockedUntil !== null && user.secondFactorLockedUntil > now;
}

/**
 * Counts one wrong code in one atomic UPDATE (parallel wrong codes all count).
 * On the 5th, locks for 15 min × 2^(earlier locks) and restarts the count.
 * Returns true when this failure caused a lock.
 */
export async function recordSecondFactorFailure(db: Executor, userId: string): Promise<boolean> {
  const reached = sql`${users.secondFactorFailures} + 1 >= ${MAX_SECOND_FACTOR_FAILURES}`;
  const lockSeconds = sql`least(${LOCKOUT_BASE_SECONDS} * power(2, ${users.secondFactorLockouts}), ${LOCKOUT_MAX_SECONDS})`;
  const [row] = await db
    .update(users)
    .set({
      secondFactorFailures: sql`case when ${reached} then 0 else ${users.secondFactorFailures} + 1 end`,
      secondFactorLockouts: sql`case when ${reached} then ${users.secondFactorLockouts} + 1 else ${users.secondFactorLockouts} end`,
      secondFactorLockedUntil: sql`case when ${reached} then now() + make_interval(secs => ${lockSeconds}) else ${users.secondFactorLockedUntil} end`,
    })
    .where(eq(users.id, userId))
    .returning({ failures: users.secondFactorFailures, lockedUntil: users.secondFactorLockedUntil });
  return !!row && row.failures === 0 && row.lockedUntil !== null;
}

/**
 * A correct code resets the counter — but only if the account is not locked
 * at this instant, checked in the same statement. Returns false when locked.
 */
export async function resetSecondFactorFailures(db: Executor, userId: string): Promise<boolean> {
  const rows = await db
    .update(users)
    .set({ secondFactorFailures: 0, secondFactorLockouts: 0, secondFactorLockedUntil: null })
    .where(and(eq(users.id, userId), or(isNull(users.secondFactorLockedUntil), lte(users.secondFactorLockedUntil, sql`now()`))))
    .returning({ id: users.id });
  return rows.length === 1;
}
