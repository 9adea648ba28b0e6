import "server-only";
import { and, eq, gt, lt, sql, type Placeholder, type SQL } from "drizzle-orm";
import type { JWT } from "next-auth/jwt";
import type { Executor } from "@/db";
import { preparedPerDatabase } from "@/db/prepared";
import { sessions, users } from "@/db/schema";
import type { RequestContext } from "@/lib/audit";
import { auditedContext } from "@/lib/audit";
import { isValidSessionGrant } from "@/lib/auth/session-grant";
import { sessionIdleMinutes } from "@/lib/env";
import { userIdSchema } from "@/lib/validation/forms";

/** NIST SP 800-63B-4 §2.2.3 (AAL2): re-authenticate at least every 12 hours, whatever the activity. */
export const SESSION_MAX_AGE_SECONDS = 12 * 60 * 60;

/**
 * A session's row counts while it is within both limits: 12 hours since
 * sign-in (`expiresAt`) and SESSION_IDLE_MINUTES since its last request.
 * Both are judged by the database clock, the one clock all instances share.
 */
export function isLive(idleMinutes: number | Placeholder = sessionIdleMinutes()): SQL {
  return and(gt(sessions.expiresAt, sql`now()`), gt(sessions.lastActiveAt, sql`now() - make_interval(mins => ${idleMinutes})`))!;
}

/** …and it is active (listed, counted) while it also holds the user's current sessionVersion. */
export function isActive(): SQL {
  return and(isLive(), eq(sessions.sessionVersion, users.sessionVersion))!;
}

/** A session about to be issued: its id (the JWT's `sid`) and the sessionVersion its JWT will carry. */
export type NewSession = { sid: string; userId: string; sessionVersion: number };

/**
 * The row of a session being issued: only ever with the second step that earns it (lib/auth/second-step-finish.ts
 * writes it with the challenge's consumption) or a passkey's sign-in, both reached only from the Credentials
 * provider's authorize().
 */
export async function recordSession(db: Executor, session: NewSession, context: RequestContext): Promise<void> {
  await insertSession(db).execute({ ...session, ...auditedContext(context) });
}

const insertSession = preparedPerDatabase((db: Executor) =>
  db
    .insert(sessions)
    .values({
      sid: sql.placeholder("sid"),
      userId: sql.placeholder("userId"),
      sessionVersion: sql.placeholder("sessionVersion"),
      ip: sql.placeholder("ip"),
      userAgent: sql.placeholder("userAgent"),
      expiresAt: sql`now() + make_interval(secs => ${SESSION_MAX_AGE_SECONDS})`,
    })
    .prepare("insert_session"),
);

/** Sign out of one session: its row goes, so the cookie and every copy of it stop working. */
export async function deleteSession(db: Executor, sid: string, userId: string): Promise<number> {
  const removed = await db.delete(sessions).where(and(eq(sessions.sid, sid), eq(sessions.userId, userId))).returning({ sid: sessions.sid });
  return removed.length;
}

/**
 * The per-request check of a session JWT (the jwt callback): its claims, its
 * age, then the user and this session's row in one statement. `grant` is the
 * server-side grant of an `update` (lib/auth/session-grant.ts), which re-issues
 * the session at the user's current version, only for this very session and
 * only when that version is the one the grant names. Returns the token to
 * keep, or null: signed out.
 */
export async function refreshSession(db: Executor, token: JWT, grant?: unknown): Promise<JWT | null> {
  const { sub, sid, sv } = token;
  const age = Math.floor(Date.now() / 1000) - Number(token.authTime);
  if (!sub || typeof sid !== "string" || typeof sv !== "number" || !(age >= 0 && age < SESSION_MAX_AGE_SECONDS)) return null;
  // A `sub` that is no user id would make PostgreSQL refuse the statement (a 500, not "signed out"); only a token
  // sealed with AUTH_SECRET gets here, so this is about failing closed, not about forgery.
  if (!userIdSchema.safeParse(sub).success) return null;
  const [row] = await sessionOfUser(db).execute({ sid, sub, idleMinutes: sessionIdleMinutes() });
  // No row: signed out, idle too long, past 12 hours, or issued before session rows existed.
  if (!row) return null;
  let version = sv;
  if (grant !== undefined && isValidSessionGrant(grant, sub, sid, row.sessionVersion)) {
    await db.update(sessions).set({ sessionVersion: row.sessionVersion }).where(eq(sessions.sid, sid));
    version = row.sessionVersion;
  }
  // Revocation: a bumped sessionVersion ends every older session at its next request.
  if (row.sessionVersion !== version) return null;
  if (row.stale) await touchSession(db, sid);
  return { ...token, sv: version, name: row.name, email: row.email, role: row.role };
}

// Prepared (db/prepared.ts): every signed-in request sends it. The idle limit is a value, not part of the
// text: it comes from the environment, read on each call like everywhere else.
const sessionOfUser = preparedPerDatabase((db: Executor) =>
  db
    .select({
      sessionVersion: users.sessionVersion,
      name: users.name,
      email: users.email,
      role: users.role,
      stale: sql<boolean>`${sessions.lastActiveAt} < now() - interval '1 minute'`,
    })
    .from(users)
    .innerJoin(sessions, and(eq(sessions.sid, sql.placeholder("sid")), eq(sessions.userId, users.id), isLive(sql.placeholder("idleMinutes"))))
    .where(eq(users.id, sql.placeholder("sub")))
    .prepare("session_of_user"),
);

/**
 * "Last active" is written at most once a minute per session, not on every
 * request: a write per page view, prefetch and action would put a row lock, a
 * WAL record and a dead tuple behind every read of the app, for a precision
 * the idle timeout does not need. The timeout therefore has one-minute
 * resolution (a session may end up to a minute before its exact idle time).
 * The condition is in the UPDATE itself, so parallel requests write once.
 */
async function touchSession(db: Executor, sid: string): Promise<void> {
  await db
    .update(sessions)
    .set({ lastActiveAt: sql`now()` })
    .where(and(eq(sessions.sid, sid), lt(sessions.lastActiveAt, sql`now() - interval '1 minute'`)));
}
