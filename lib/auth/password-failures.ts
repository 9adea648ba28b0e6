import "server-only";
import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { preparedPerDatabase } from "@/db/prepared";
import { passwordFailures } from "@/db/schema";

/**
 * How many consecutive wrong passwords one counter allows (NIST SP 800-63B-4
 * §3.2.2: consecutive failures, forgotten on success). The `first` failures
 * are free; the one that reaches `first` locks the counter for an hour, and
 * after each lock only `afterLock` more are allowed before the next, twice as
 * long (capped). No hourly window hands out a new allowance: what a patient
 * guesser gets grows with the logarithm of time, not with time.
 */
export type FailurePolicy = { first: number; afterLock: number };

const LOCK_BASE_SECONDS = 60 * 60;
/** A week: an owner without a known browser waits at most this long after a stranger's siege. */
const LOCK_MAX_SECONDS = 7 * 24 * 60 * 60;

export type FailureCounter = { userId: string; counter: string };

/**
 * Counts one failure before the password is checked, in one atomic upsert,
 * and returns false (counting nothing) when the counter is locked: parallel
 * attempts each take their own number, so no more than the allowance is ever
 * verified. The attempt that reaches the threshold is still verified, and
 * locks the counter for those after it. Call `clearFailures` on success.
 */
export async function reserveFailure(db: Executor, { userId, counter }: FailureCounter, policy: FailurePolicy): Promise<boolean> {
  const rows = await reserveFailureStatement(db).execute({ userId, counter, first: policy.first, afterLock: policy.afterLock });
  return rows.length === 1;
}

/** The password was right: the reserved failure and every earlier one are forgotten. */
export async function clearFailures(db: Executor, { userId, counter }: FailureCounter): Promise<void> {
  await clearFailuresStatement(db).execute({ userId, counter });
}

// Prepared (db/prepared.ts): every password step sends both.
const reserveFailureStatement = preparedPerDatabase((db: Executor) => {
  const t = passwordFailures;
  const reached = sql`${t.failures} + 1 >= ${sql.placeholder("first")} + ${t.lockouts} * ${sql.placeholder("afterLock")}`;
  const lockSeconds = sql`least(${LOCK_BASE_SECONDS} * power(2, ${t.lockouts}), ${LOCK_MAX_SECONDS})`;
  return (
    db
      .insert(t)
      // A first failure never locks: every policy allows more than one.
      .values({ userId: sql.placeholder("userId"), counter: sql.placeholder("counter"), failures: 1 })
      .onConflictDoUpdate({
        target: [t.userId, t.counter],
        set: {
          failures: sql`${t.failures} + 1`,
          lockouts: sql`case when ${reached} then ${t.lockouts} + 1 else ${t.lockouts} end`,
          lockedUntil: sql`case when ${reached} then now() + make_interval(secs => ${lockSeconds}) else ${t.lockedUntil} end`,
        },
        setWhere: sql`${t.lockedUntil} is null or ${t.lockedUntil} <= now()`,
      })
      .returning({ failures: t.failures })
      .prepare("reserve_password_failure")
  );
});

const clearFailuresStatement = preparedPerDatabase((db: Executor) =>
  db
    .delete(passwordFailures)
    .where(and(eq(passwordFailures.userId, sql.placeholder("userId")), eq(passwordFailures.counter, sql.placeholder("counter"))))
    .prepare("clear_password_failures"),
);
