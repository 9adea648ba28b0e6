"use client";
import { useEffect, useState } from "react";
import { loadSecurityActivityAction, type ActivityItem } from "@/app/(app)/my-settings/actions";
import { auditEventLabel } from "@/lib/audit-labels";

/** The user's own recent security events, so they notice what they did not do. */
export function SecurityActivity() {
  const [items, setItems] = useState<ActivityItem[] | null>(null);
  useEffect(() => {
    loadSecurityActivityAction().then(setItems, () => setItems([]));
  }, []);
  return (
    <section aria-labelledby="activity-heading" className="flex flex-col gap-2">
      <h3 id="activity-heading" className="text-sm font-semibold">
        Security activity
      </h3>
      {items === null ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">Loading…</p>
      ) : items.length === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">No events yet.</p>
      ) : (
        <ul className="max-h-48 divide-y divide-slate-100 overflow-y-auto rounded-md border border-slate-200 text-sm dark:divide-slate-800 dark:border-slate-700">
          {items.map((item) => (
            <li key={item.id} className="flex flex-wrap justify-between gap-x-4 px-3 py-2">
              <span>{auditEventLabel(item.event)}</span>
              <span className="text-slate-600 tabular-nums dark:text-slate-400">
                {new Date(item.at).toLocaleString()} {item.ip ? `· ${item.ip}` : ""}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
