import "server-only";
import type { Executor } from "@/db";
import { auditEvents } from "@/db/schema";

/** Who and where a request came from; recorded with every security event. */
export type RequestContext = { ip: string | null; userAgent: string | null };

export const AUDIT_EVENTS = [
  "sign_in.succeeded",
  "sign_in.password_failed",
  "sign_in.code_failed",
  "sign_in.code_replayed",
  "sign_in.locked_out",
  "sign_in.finish_refused",
  "sign_in.locked_attempt",
  "recovery_code.used",
  "two_factor.enabled",
  "two_factor.disabled",
  "two_factor.removed_by_admin",
  "recovery_codes.regenerated",
  "trusted_browser.added",
  "trusted_browser.removed",
  "trusted_browser.refused",
  "security_key.added",
  "security_key.used",
  "security_key.renamed",
  "security_key.removed",
  "security_key.refused",
  "security_key.counter_regressed",
  "password.changed",
  "sessions.ended",
  "session.ended",
  "settings.changed",
  "user.created",
  "user.changed",
  "setup.completed",
] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

type Details = Record<string, string | number | boolean | null>;

/**
 * Appends one security event. Pass the transaction that makes the change, so
 * the event exists exactly when the change does. Never put a secret in `details`.
 */
export async function recordEvent(
  db: Executor,
  event: AuditEvent,
  who: { actorUserId?: string | null; targetUserId?: string | null },
  context: RequestContext,
  details?: Details,
): Promise<void> {
  await db.insert(auditEvents).values({
    event,
    actorUserId: who.actorUserId ?? null,
    targetUserId: who.targetUserId ?? null,
    ...auditedContext(context),
    details: details ?? null,
  });
}

/** The request's IP and browser as the audit log stores them (bounded); also for writes that audit in raw SQL. */
export function auditedContext(context: RequestContext): { ip: string | null; userAgent: string | null } {
  return { ip: context.ip?.slice(0, 64) ?? null, userAgent: context.userAgent?.slice(0, 512) ?? null };
}
