import "server-only";
import { sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { endedSessions } from "@/db/schema";

/**
 * Sign-out of one session: its id goes on the list the jwt callback checks,
 * until the session would have expired anyway (the hourly sweep,
 * lib/maintenance.ts, then deletes the entry).
 */
export async function endSession(db: Executor, sessionId: string, userId: string, expiresAt: Date): Promise<void> {
  await db.insert(endedSessions).values({ sessionId, userId, expiresAt }).onConflictDoNothing();
}

/** For the per-request session check: true when this session was signed out. */
export const sessionEnded = (sessionId: string) =>
  sql<boolean>`exists (select 1 from ${endedSessions} where ${endedSessions.sessionId} = ${sessionId})`;
