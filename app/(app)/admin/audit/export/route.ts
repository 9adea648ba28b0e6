import { resolveAuditFilters } from "@/lib/admin/audit-query";
import { AUDIT_EXPORT_MAX_ROWS, auditCsv, listAuditEvents } from "@/lib/audit-log";
import { adminOrNull } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { auditFiltersSchema, firstValues } from "@/lib/validation/audit-filters";

/** Audit log → Export CSV, with the filters on screen. Admins only, checked here. */
export async function GET(request: Request): Promise<Response> {
  if (!(await adminOrNull())) return new Response("Not found", { status: 404 });
  const params = auditFiltersSchema.parse(firstValues(Object.fromEntries(new URL(request.url).searchParams)));
  const db = await getDb();
  const rows = await listAuditEvents(db, await resolveAuditFilters(db, params), AUDIT_EXPORT_MAX_ROWS);
  return new Response(auditCsv(rows), {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="audit-log-${new Date().toISOString().slice(0, 10)}.csv"`,
      "cache-control": "no-store",
    },
  });
}
