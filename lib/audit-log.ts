import "server-only";
import { and, count, desc, eq, gte, lt, sql, type SQL } from "drizzle-orm";
import { alias, union } from "drizzle-orm/pg-core";
import type { Executor } from "@/db";
import { auditEvents, users } from "@/db/schema";

export const AUDIT_PAGE_SIZE = 50;
/** An export is capped: a CSV of a million rows helps nobody and costs the server. */
export const AUDIT_EXPORT_MAX_ROWS = 10_000;

export type AuditFilters = { userId?: string | null; event?: string | null; from?: Date | null; to?: Date | null };

export type AuditRow = {
  id: number;
  at: Date;
  event: string;
  actorEmail: string | null;
  targetEmail: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, string | number | boolean | null> | null;
};

const actor = alias(users, "actor");
const target = alias(users, "target");

/** Every filter but the user's, which matches two columns (below). */
function where(filters: AuditFilters, ...more: (SQL | undefined)[]): SQL | undefined {
  return and(
    filters.event ? eq(auditEvents.event, filters.event) : undefined,
    filters.from ? gte(auditEvents.at, filters.from) : undefined,
    filters.to ? lt(auditEvents.at, filters.to) : undefined,
    ...more,
  );
}

const newestFirst = [desc(auditEvents.at), desc(auditEvents.id)];

/**
 * The ids (and times) of the newest `take` matching events — with a user filter, of up to twice as
 * many: the user's events as target and as actor, each the newest `take` through its own index
 * ((target_user_id, at, id), (actor_user_id, at, id)), united. `target = u OR actor = u` in one WHERE has
 * no index order: PostgreSQL read all of a user's events and sorted them, whatever the page.
 */
function newestMatches(db: Executor, filters: AuditFilters, take: number) {
  const newest = (condition?: SQL) =>
    db.select({ id: auditEvents.id, at: auditEvents.at }).from(auditEvents).where(where(filters, condition)).orderBy(...newestFirst).limit(take);
  if (!filters.userId) return newest().as("matches");
  return union(newest(eq(auditEvents.targetUserId, filters.userId)), newest(eq(auditEvents.actorUserId, filters.userId))).as("matches");
}

/**
 * Newest first, with the actor's and target's emails (null once a user is deleted). Only the page's
 * rows are read in full and joined to users: joined before the LIMIT, every match of a filter was.
 */
export async function listAuditEvents(db: Executor, filters: AuditFilters, limit: number, offset = 0): Promise<AuditRow[]> {
  const matches = newestMatches(db, filters, offset + limit);
  const page = db
    .select({ id: matches.id, at: matches.at })
    .from(matches)
    .orderBy(desc(matches.at), desc(matches.id))
    .limit(limit)
    .offset(offset)
    .as("page");
  return db
    .select({
      id: auditEvents.id,
      at: auditEvents.at,
      event: auditEvents.event,
      actorEmail: actor.email,
      targetEmail: target.email,
      ip: auditEvents.ip,
      userAgent: auditEvents.userAgent,
      details: auditEvents.details,
    })
    .from(page)
    .innerJoin(auditEvents, eq(auditEvents.id, page.id))
    .leftJoin(actor, eq(actor.id, auditEvents.actorUserId))
    .leftJoin(target, eq(target.id, auditEvents.targetUserId))
    .orderBy(...newestFirst);
}

/**
 * The count stops here (20 pages), or at the end of the page asked for if that is further: an exact
 * count of a log with millions of events would read them all on every visit, for a number nobody
 * pages through; the filters and the CSV export are the way into a longer history.
 */
export const AUDIT_COUNT_LIMIT = 1_000;

export type AuditCount = { total: number; capped: boolean };

/**
 * Events matching the filters, counted up to AUDIT_COUNT_LIMIT or `through` (capped: there are more).
 * In no order: without one, the event and date filters are counted from their index alone. With a
 * user filter, each half stops one past the limit (if either has more, so has the union), and the
 * ids are what the union de-duplicates (an event where the user is both actor and target).
 */
export async function countAuditEvents(db: Executor, filters: AuditFilters, through = 0): Promise<AuditCount> {
  const limit = Math.max(AUDIT_COUNT_LIMIT, through);
  const half = (condition: SQL) => db.select({ id: auditEvents.id }).from(auditEvents).where(where(filters, condition)).limit(limit + 1);
  const matches = filters.userId
    ? union(half(eq(auditEvents.targetUserId, filters.userId)), half(eq(auditEvents.actorUserId, filters.userId))).as("matches")
    : db.select({ one: sql`1` }).from(auditEvents).where(where(filters)).limit(limit + 1).as("matches");
  const [row] = await db.select({ n: count() }).from(matches);
  return row.n > limit ? { total: limit, capped: true } : { total: row.n, capped: false };
}

/** The user's own recent security events, for My Settings. */
export function recentEventsFor(db: Executor, userId: string, limit = 20): Promise<AuditRow[]> {
  return listAuditEvents(db, { userId }, limit);
}

/** RFC 4180 CSV; cells that a spreadsheet would run as a formula are prefixed with '. */
export function auditCsv(rows: AuditRow[]): string {
  const header = ["time_utc", "event", "actor", "target", "ip", "user_agent", "details"];
  const lines = rows.map((r) =>
    [r.at.toISOString(), r.event, r.actorEmail, r.targetEmail, r.ip, r.userAgent, r.details ? JSON.stringify(r.details) : ""].map(csvCell).join(","),
  );
  return [header.join(","), ...lines].join("\r\n") + "\r\n";
}

function csvCell(value: string | null): string {
  let text = value ?? "";
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
