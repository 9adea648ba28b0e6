"use client";
import { useCallback, useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import {
  loadTrustedBrowsersAction,
  removeTrustedBrowsersAction,
  type TrustedBrowserItem,
} from "@/app/(app)/my-settings/actions";

const day = (iso: string) => new Date(iso).toLocaleDateString();

/** Browsers that skip the code step for this user, each with Remove, and Remove all. */
export function TrustedBrowsers() {
  const [items, setItems] = useState<TrustedBrowserItem[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const reload = useCallback(() => loadTrustedBrowsersAction().then(setItems, () => setItems([])), []);
  useEffect(() => {
    reload();
  }, [reload]);
  async function remove(id: string | null) {
    const result = await removeTrustedBrowsersAction(id);
    setNotice(result.status === "success" ? (result.message ?? null) : result.status === "error" ? result.message : null);
    await reload();
  }
  if (!items || (items.length === 0 && !notice)) return null;
  return (
    <section aria-labelledby="trusted-heading" className="flex flex-col gap-2">
      <div className="flex items-center justify-between">
        <h3 id="trusted-heading" className="text-sm font-semibold">
          Trusted browsers
        </h3>
        {items.length > 0 ? (
          <Button variant="secondary" onClick={() => remove(null)}>
            Remove all
          </Button>
        ) : null}
      </div>
      {notice ? (
        <p role="status" className="text-sm text-green-800 dark:text-green-300">
          {notice}
        </p>
      ) : null}
      <ul className="divide-y divide-slate-100 rounded-md border border-slate-200 text-sm dark:divide-slate-800 dark:border-slate-700">
        {items.map((item) => (
          <li key={item.id} className="flex flex-wrap items-center justify-between gap-2 px-3 py-2">
            <span>
              <span className="font-medium">{item.description}</span>
              <span className="block text-xs text-slate-600 dark:text-slate-400">
                Added {day(item.createdAt)} · last used {item.lastUsedAt ? day(item.lastUsedAt) : "never"} · expires {day(item.expiresAt)}
              </span>
            </span>
            <Button variant="secondary" onClick={() => remove(item.id)} aria-label={`Remove ${item.description}, added ${day(item.createdAt)}`}>
              Remove
            </Button>
          </li>
        ))}
      </ul>
    </section>
  );
}
