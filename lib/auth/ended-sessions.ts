import "server-only";
import { lt, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { endedSessions } from "@/db/schema";

/**
 * Sign-out of one session: its id goes on the list the jwt callback checks,
 * until the session would have expired anyway. Expired entries are swept here,
 * so the list stays as short as the sessions ended in the last 12 hours.
 */
export async function endSession(db: Executor, sessionId: string, userId: string, expiresAt: Date): Promise<void> {
  await db.insert(endedSessions).values({ sessionId, userId, expiresAt }).onConflictDoNothing();
  await db.delete(endedSessions).where(lt(endedSessions.expiresAt, sql`now()`));
}

/** For the per-request session check: true when this session was signed out. */
export const sessionEnded = (sessionId: string) =>
  sql<boolean>`exists (select 1 from ${endedSessions} where ${endedSessions.sessionId} = ${sessionId})`;
