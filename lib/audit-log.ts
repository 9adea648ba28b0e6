import "server-only";
import { and, count, desc, eq, gte, lt, or, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
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

function where(filters: AuditFilters): SQL | undefined {
  return and(
    filters.userId ? or(eq(auditEvents.targetUserId, filters.userId), eq(auditEvents.actorUserId, filters.userId)) : undefined,
    filters.event ? eq(auditEvents.event, filters.event) : undefined,
    filters.from ? gte(auditEvents.at, filters.from) : undefined,
    filters.to ? lt(auditEvents.at, filters.to) : undefined,
  );
}

/** Newest first, with the actor's and target's emails (null once a user is deleted). */
export async function listAuditEvents(db: Executor, filters: AuditFilters, limit: number, offset = 0): Promise<AuditRow[]> {
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
    .from(auditEvents)
    .leftJoin(actor, eq(actor.id, auditEvents.actorUserId))
    .leftJoin(target, eq(target.id, auditEvents.targetUserId))
    .where(where(filters))
    .orderBy(desc(auditEvents.at), desc(auditEvents.id))
    .limit(limit)
    .offset(offset);
}

/**
 * The count stops here, or at the end of the page asked for if that is further: an exact count of a
 * log with millions of events would read them all on every visit, for a number nobody pages through.
 */
export const AUDIT_COUNT_LIMIT = 5_000;

export type AuditCount = { total: number; capped: boolean };

/** Events matching the filters, counted up to AUDIT_COUNT_LIMIT or `through` (capped: there are more). */
export async function countAuditEvents(db: Executor, filters: AuditFilters, through = 0): Promise<AuditCount> {
  const limit = Math.max(AUDIT_COUNT_LIMIT, through);
  const matches = db.select({ one: sql`1` }).from(auditEvents).where(where(filters)).limit(limit + 1).as("matches");
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
