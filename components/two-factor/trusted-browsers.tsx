"use client";
import { listClass, listItemClass } from "@/components/ui/list-class";
import { ActionButton } from "@/components/ui/button";
import { Notice } from "@/components/ui/notice";
import { useManagedList } from "@/components/two-factor/use-managed-list";
import {
  loadTrustedBrowsersAction,
  removeTrustedBrowsersAction,
  type TrustedBrowserItem,
} from "@/app/(app)/my-settings/actions";

const day = (iso: string) => new Date(iso).toLocaleDateString();

/** Browsers that skip the code step for this user, each with Remove, and Remove all. */
export function TrustedBrowsers() {
  const { items, notice, act: remove } = useManagedList<TrustedBrowserItem, [string | null]>(loadTrustedBrowsersAction, removeTrustedBrowsersAction);
  if (!items || (items.length === 0 && !notice)) return null;
  return (
    <section aria-labelledby="trusted-heading" className="flex flex-col gap-2">
      <div className="flex items-center justify-between">
        <h3 id="trusted-heading" className="text-sm font-semibold">
          Trusted browsers
        </h3>
        {items.length > 0 ? (
          <ActionButton variant="secondary" onAction={() => remove(null)}>
            Remove all
          </ActionButton>
        ) : null}
      </div>
      {notice ? (
        <Notice tone={notice.ok ? "success" : "danger"} live>
          {notice.message}
        </Notice>
      ) : null}
      <ul className={listClass}>
        {items.map((item) => (
          <li key={item.id} className={listItemClass}>
            <span>
              <span className="font-medium">{item.description}</span>
              <span className="block text-xs text-slate-600 dark:text-slate-400">
                Added {day(item.createdAt)} · last used {item.lastUsedAt ? day(item.lastUsedAt) : "never"} · expires {day(item.expiresAt)}
              </span>
            </span>
            <ActionButton variant="secondary" onAction={() => remove(item.id)} aria-label={`Remove ${item.description}, added ${day(item.createdAt)}`}>
              Remove
            </ActionButton>
          </li>
        ))}
      </ul>
    </section>
  );
}
