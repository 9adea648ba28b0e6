import "server-only";
import { eq, sql } from "drizzle-orm";
import { preparedPerDatabase } from "@/db/prepared";
import type { Executor } from "@/db";
import { users } from "@/db/schema";

/** Consecutive wrong codes (TOTP, recovery, enrollment, step-up: one counter) before the second step locks. */
export const MAX_SECOND_FACTOR_FAILURES = 5;
/** First lock; each further lock doubles it, up to a day. */
export const LOCKOUT_BASE_SECONDS = 15 * 60;
const LOCKOUT_MAX_SECONDS = 24 * 60 * 60;

/** `locks`: this attempt was the last one allowed and locked the account; it is still judged. */
export type AttemptReservation = { allowed: false } | { allowed: true; locks: boolean };

/**
 * Reserves one second-factor attempt before the code is judged, in one
 * UPDATE … RETURNING: the attempt is counted as a failure up front and the
 * lock starts with the 5th (15 min × 2^(earlier locks), up to a day), so of
 * any number of parallel guesses at most 5 are ever judged per lock — a
 * check of the lock followed by a count of the failure let a burst of
 * guesses all be judged before the first of them was counted. A success
 * afterwards clears the count (`clearSecondFactorFailures`). An attempt that
 * dies between the two stays counted: the error is on the safe side.
 */
export async function reserveSecondFactorAttempt(db: Executor, userId: string): Promise<AttemptReservation> {
  const [row] = await reservation(db).execute({ userId });
  return row ? { allowed: true, locks: !!row.locks } : { allowed: false };
}

// Prepared (db/prepared.ts): every code step sends it.
const reservation = preparedPerDatabase((db: Executor) => {
  const reached = sql`${users.secondFactorFailures} + 1 >= ${MAX_SECOND_FACTOR_FAILURES}`;
  const lockSeconds = sql`least(${LOCKOUT_BASE_SECONDS} * power(2, ${users.secondFactorLockouts}), ${LOCKOUT_MAX_SECONDS})`;
  return db
    .update(users)
    .set({
      secondFactorFailures: sql`case when ${reached} then 0 else ${users.secondFactorFailures} + 1 end`,
      secondFactorLockouts: sql`case when ${reached} then ${users.secondFactorLockouts} + 1 else ${users.secondFactorLockouts} end`,
      secondFactorLockedUntil: sql`case when ${reached} then now() + make_interval(secs => ${lockSeconds}) else ${users.secondFactorLockedUntil} end`,
    })
    .where(sql`${users.id} = ${sql.placeholder("userId")} and (${users.secondFactorLockedUntil} is null or ${users.secondFactorLockedUntil} <= now())`)
    .returning({ locks: sql<boolean>`${users.secondFactorLockedUntil} is not null and ${users.secondFactorLockedUntil} > now()` })
    .prepare("reserve_second_factor_attempt");
});

/**
 * A reserved attempt succeeded: the count, the escalation and the lock this
 * very attempt may have started (it was the 5th, and right) are cleared.
 */
export async function clearSecondFactorFailures(db: Executor, userId: string): Promise<void> {
  await db
    .update(users)
    .set({ secondFactorFailures: 0, secondFactorLockouts: 0, secondFactorLockedUntil: null })
    .where(eq(users.id, userId));
}
