import "server-only";
import { lt, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { endedSessions, rateLimits, signInChallenges, trustedBrowsers } from "@/db/schema";

// Longer than any rate-limit window (the longest is an hour), so no live counter is lost.
const RATE_LIMIT_KEEP = sql`now() - interval '1 day'`;

/**
 * Deletes rows that can no longer matter: expired challenges, trusted
 * browsers and ended-session entries, and rate-limit counters whose window
 * closed long ago. Idempotent and safe to run from every instance at once.
 * The audit log is kept: how long is the operator's decision.
 */
export async function sweepExpired(db: Executor): Promise<Record<string, number>> {
  const count = async (rows: Promise<unknown[]>) => (await rows).length;
  return {
    challenges: await count(db.delete(signInChallenges).where(lt(signInChallenges.expiresAt, sql`now()`)).returning({ id: signInChallenges.tokenHash })),
    trustedBrowsers: await count(db.delete(trustedBrowsers).where(lt(trustedBrowsers.expiresAt, sql`now()`)).returning({ id: trustedBrowsers.id })),
    endedSessions: await count(db.delete(endedSessions).where(lt(endedSessions.expiresAt, sql`now()`)).returning({ id: endedSessions.sessionId })),
    rateLimits: await count(db.delete(rateLimits).where(lt(rateLimits.windowStartedAt, RATE_LIMIT_KEEP)).returning({ key: rateLimits.key })),
  };
}
