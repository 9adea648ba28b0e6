import "server-only";
import { eq, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { rateLimits } from "@/db/schema";

/** At most one "wrong code" mail per user in this time: a guessing attacker must not flood the inbox. */
export const CODE_REFUSED_MAIL_INTERVAL_SECONDS = 60 * 60;

const keyFor = (userId: string) => `mail:code_refused:${userId}`;

/**
 * Claims the right to send this user's "wrong code" mail now: true for the
 * first caller in an hour, on any instance. One upsert on rate_limits: the
 * row is written only if absent or older than the hour, and of parallel
 * claims PostgreSQL lets exactly one see its row come back.
 */
export async function claimCodeRefusedMail(db: Executor, userId: string): Promise<boolean> {
  const claimed = await db
    .insert(rateLimits)
    .values({ key: keyFor(userId), count: 1, windowStartedAt: sql`now()` })
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: { count: 1, windowStartedAt: sql`now()` },
      setWhere: sql`${rateLimits.windowStartedAt} <= now() - make_interval(secs => ${CODE_REFUSED_MAIL_INTERVAL_SECONDS})`,
    })
    .returning({ key: rateLimits.key });
  return claimed.length === 1;
}

/** The mail could not be sent: the next refused code may try again rather than wait out the hour. */
export async function releaseCodeRefusedMail(db: Executor, userId: string): Promise<void> {
  await db.delete(rateLimits).where(eq(rateLimits.key, keyFor(userId)));
}
