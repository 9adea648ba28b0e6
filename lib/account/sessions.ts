import "server-only";
import { and, count, desc, eq } from "drizzle-orm";
import type { Database, Executor } from "@/db";
import { sessions, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { deleteSession, isActive } from "@/lib/auth/session-records";
import { endSessions } from "@/lib/two-factor/enrollment";

/** Sign out everywhere: every session of the user ends, this one included. */
export async function signOutEverywhere(db: Database, userId: string, context: RequestContext): Promise<void> {
  await db.transaction(async (tx) => {
    await endSessions(tx, userId);
    await recordEvent(tx, "sessions.ended", { actorUserId: userId, targetUserId: userId }, context);
  });
}

export type ActiveSession = { sid: string; signedInAt: Date; lastActiveAt: Date; ip: string | null; userAgent: string | null };

/** The user's active sessions (My Settings → Sessions), most recently active first. */
export function listActiveSessions(db: Executor, userId: string): Promise<ActiveSession[]> {
  return db
    .select({ sid: sessions.sid, signedInAt: sessions.signedInAt, lastActiveAt: sessions.lastActiveAt, ip: sessions.ip, userAgent: sessions.userAgent })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.userId, userId), isActive()))
    .orderBy(desc(sessions.lastActiveAt), desc(sessions.signedInAt));
}

/** How many sessions a bump of the user's sessionVersion would end now. */
export async function countActiveSessions(db: Executor, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.userId, userId), isActive()));
  return row.n;
}

/**
 * Sign out of one of the user's own sessions, by its id. The id is matched
 * with the user's: another user's session id ends nothing and records nothing.
 * True when a session ended.
 */
export async function signOutSession(db: Database, userId: string, sid: string, context: RequestContext): Promise<boolean> {
  return db.transaction(async (tx) => {
    if ((await deleteSession(tx, sid, userId)) === 0) return false;
    await recordEvent(tx, "session.ended", { actorUserId: userId, targetUserId: userId }, context);
    return true;
  });
}
