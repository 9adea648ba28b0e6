import "server-only";
import type { Executor } from "@/db";
import type { AuditFilters } from "@/lib/audit-log";
import { findUserByEmail } from "@/lib/users";
import type { AuditFilterParams } from "@/lib/validation/audit-filters";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * URL filters → query filters. An email that matches nobody yields a filter
 * that matches nothing (not "everything").
 */
export async function resolveAuditFilters(db: Executor, params: AuditFilterParams): Promise<AuditFilters> {
  let userId: string | null = null;
  if (params.user) {
    const user = await findUserByEmail(db, params.user);
    userId = user?.id ?? "00000000-0000-0000-0000-000000000000";
  }
  return {
    userId,
    event: params.event || null,
    from: params.from ? new Date(`${params.from}T00:00:00Z`) : null,
    // "to" is inclusive for people: up to the end of that day (UTC).
    to: params.to ? new Date(Date.parse(`${params.to}T00:00:00Z`) + DAY_MS) : null,
  };
}
