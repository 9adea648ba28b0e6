import "server-only";
import { eq, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { preparedPerDatabase } from "@/db/prepared";
import { rateLimits } from "@/db/schema";

export type RateLimit = { key: string; limit: number; windowSeconds: number };

/**
 * Takes one attempt from a fixed-window allowance before the attempt is
 * judged, in one atomic upsert: true when it was within `limit` for the
 * current window, false (counting nothing) when the window is used up.
 * Parallel attempts each take their own number, so no more than `limit` pass.
 * Counters live in the database so every app instance sees the same numbers.
 */
export async function reserveAttempt(db: Executor, { key, limit, windowSeconds }: RateLimit): Promise<boolean> {
  const rows = await reserveStatement(db).execute({ key, limit, windowSeconds });
  return rows.length === 1;
}

/** Gives back an attempt that turned out not to be a failure (the limit counts failures only). */
export async function releaseAttempt(db: Executor, { key }: RateLimit): Promise<void> {
  await releaseStatement(db).execute({ key });
}

// Prepared (db/prepared.ts): every password step sends both.
const reserveStatement = preparedPerDatabase((db: Executor) => {
  const expired = sql`${rateLimits.windowStartedAt} <= now() - make_interval(secs => ${sql.placeholder("windowSeconds")})`;
  return db
    .insert(rateLimits)
    .values({ key: sql.placeholder("key"), count: 1, windowStartedAt: sql`now()` })
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: {
        count: sql`case when ${expired} then 1 else ${rateLimits.count} + 1 end`,
        windowStartedAt: sql`case when ${expired} then now() else ${rateLimits.windowStartedAt} end`,
      },
      setWhere: sql`${expired} or ${rateLimits.count} < ${sql.placeholder("limit")}`,
    })
    .returning({ count: rateLimits.count })
    .prepare("reserve_attempt");
});

const releaseStatement = preparedPerDatabase((db: Executor) =>
  db
    .update(rateLimits)
    .set({ count: sql`greatest(${rateLimits.count} - 1, 0)` })
    .where(eq(rateLimits.key, sql.placeholder("key")))
    .prepare("release_attempt"),
);
