import type { Metadata } from "next";
import Link from "next/link";
import { SubmitButton } from "@/components/ui/button";
import { buttonClass, linkClass } from "@/components/ui/button-class";
import { Card } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { inputClass as input } from "@/components/ui/input-class";
import { SearchForm } from "@/components/ui/search-form";
import { tableClass, tableHeadClass, tableRowClass } from "@/components/ui/table-class";
import { resolveAuditFilters } from "@/lib/admin/audit-query";
import { AUDIT_EVENTS } from "@/lib/audit";
import { auditEventLabel } from "@/lib/audit-labels";
import { AUDIT_PAGE_SIZE, countAuditEvents, listAuditEvents } from "@/lib/audit-log";
import { requireAdmin } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { describeBrowser } from "@/lib/two-factor/trusted-browsers";
import { auditFiltersSchema, firstValues } from "@/lib/validation/audit-filters";

export const metadata: Metadata = { title: "Audit log" };

export default async function AuditLogPage({ searchParams }: { searchParams: Promise<Record<string, string | string[]>> }) {
  await requireAdmin();
  const params = auditFiltersSchema.parse(firstValues(await searchParams));
  const db = await getDb();
  const filters = await resolveAuditFilters(db, params);
  const page = params.page ?? 1;
  const [rows, { total, capped }] = await Promise.all([
    listAuditEvents(db, filters, AUDIT_PAGE_SIZE, (page - 1) * AUDIT_PAGE_SIZE),
    countAuditEvents(db, filters, page * AUDIT_PAGE_SIZE),
  ]);
  const pages = Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE));
  // Capped: the count stopped at `total`, so both numbers are lower bounds ("Page 1 of 20+ · 1000+ events"),
  // and a next page exists.
  const more = capped ? "+" : "";
  const query = (overrides: Record<string, string | number | undefined>) => {
    const merged = { user: params.user, event: params.event, from: params.from, to: params.to, ...overrides };
    const search = new URLSearchParams(Object.entries(merged).filter(([, v]) => v !== undefined && v !== "") as [string, string][]);
    return search.size ? `?${search}` : "";
  };
  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold">Audit log</h1>
        <a href={`/admin/audit/export${query({})}`} className={buttonClass("secondary")}>
          Export CSV
        </a>
      </div>
      <SearchForm action="/admin/audit" className="flex flex-wrap items-end gap-3" aria-label="Filter the audit log">
        <label className="flex flex-col gap-1 text-sm font-medium">
          User email
          <input name="user" type="email" defaultValue={params.user} className={input} />
        </label>
        <div className="flex flex-col gap-1 text-sm">
          <label htmlFor="audit-event" className="font-medium">
            Event
          </label>
          <select id="audit-event" name="event" defaultValue={params.event ?? ""} className={input}>
            <option value="">All events</option>
            {AUDIT_EVENTS.map((event) => (
              <option key={event} value={event}>
                {auditEventLabel(event)}
              </option>
            ))}
          </select>
        </div>
        <label className="flex flex-col gap-1 text-sm font-medium">
          From (UTC)
          <input name="from" type="date" defaultValue={params.from} className={input} />
        </label>
        <label className="flex flex-col gap-1 text-sm font-medium">
          To (UTC)
          <input name="to" type="date" defaultValue={params.to} className={input} />
        </label>
        <SubmitButton>Filter</SubmitButton>
      </SearchForm>
      {/* The table scrolls sideways on narrow screens: focusable and named, so a keyboard can scroll it too. */}
      <Card
        padded={false}
        tabIndex={0}
        role="region"
        aria-label="Audit log entries"
        className="overflow-x-auto focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600"
      >
        {rows.length === 0 ? (
          <EmptyState title="No events match these filters">
            <Link href="/admin/audit" className={linkClass}>
              Show every event
            </Link>
          </EmptyState>
        ) : (
          <table className={tableClass}>
            <thead className={tableHeadClass}>
              <tr>
                {["Time (UTC)", "Event", "Actor", "User", "IP", "Browser"].map((h) => (
                  <th key={h} scope="col" className="px-4 py-3 font-medium whitespace-nowrap">
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id} className={tableRowClass}>
                  <td className="px-4 py-2 whitespace-nowrap tabular-nums">{row.at.toISOString().replace("T", " ").slice(0, 19)}</td>
                  <td className="px-4 py-2 whitespace-nowrap">{auditEventLabel(row.event)}</td>
                  <td className="px-4 py-2 whitespace-nowrap">{row.actorEmail ?? "—"}</td>
                  <td className="px-4 py-2 whitespace-nowrap">{row.targetEmail ?? "—"}</td>
                  <td className="px-4 py-2 whitespace-nowrap">{row.ip ?? "—"}</td>
                  {/* "Chrome on Windows" reads at a glance; the whole header is in the tooltip and the CSV. */}
                  <td className="px-4 py-2 whitespace-nowrap" title={row.userAgent ?? undefined}>
                    {row.userAgent ? describeBrowser(row.userAgent) : "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <nav aria-label="Pages" className="flex items-center justify-between text-sm">
        <span>
          {`Page ${page} of ${pages}${more} · ${total}${more} ${total === 1 && !capped ? "event" : "events"}`}
        </span>
        <span className="flex gap-2">
          {page > 1 ? (
            <Link href={`/admin/audit${query({ page: page - 1 })}`} className={linkClass}>
              Previous
            </Link>
          ) : null}
          {page < pages || capped ? (
            <Link href={`/admin/audit${query({ page: page + 1 })}`} className={linkClass}>
              Next
            </Link>
          ) : null}
        </span>
      </nav>
    </div>
  );
}
