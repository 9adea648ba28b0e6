import "server-only";
import { inArray, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { rateLimits } from "@/db/schema";

export type RateLimit = { key: string; limit: number; windowSeconds: number };

/**
 * True when any of the limits has already seen `limit` failures in its
 * current window. Counters live in the database so every app instance
 * sees the same numbers.
 */
export async function isRateLimited(db: Executor, limits: RateLimit[]): Promise<boolean> {
  const rows = await db
    .select()
    .from(rateLimits)
    .where(inArray(rateLimits.key, limits.map((l) => l.key)));
  const now = Date.now();
  return limits.some((limit) => {
    const row = rows.find((r) => r.key === limit.key);
    return !!row && row.windowStartedAt.getTime() + limit.windowSeconds * 1000 > now && row.count >= limit.limit;
  });
}

/** Counts one failure against each limit (fixed window, one atomic upsert each). */
export async function recordFailure(db: Executor, limits: RateLimit[]): Promise<void> {
  for (const limit of limits) {
    const expired = sql`${rateLimits.windowStartedAt} <= now() - make_interval(secs => ${limit.windowSeconds})`;
    await db
      .insert(rateLimits)
      .values({ key: limit.key, count: 1, windowStartedAt: sql`now()` })
      .onConflictDoUpdate({
        target: rateLimits.key,
        set: {
          count: sql`case when ${expired} then 1 else ${rateLimits.count} + 1 end`,
          windowStartedAt: sql`case when ${expired} then now() else ${rateLimits.windowStartedAt} end`,
        },
      });
  }
}
