"use client";
import { listClass, listItemClass } from "@/components/ui/list-class";
import { ActionButton } from "@/components/ui/button";
import { Notice } from "@/components/ui/notice";
import { useManagedList } from "@/components/two-factor/use-managed-list";
import { loadSessionsAction, signOutSessionAction, type SessionItem } from "@/app/(app)/my-settings/actions";

const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

/** My Settings → Sessions: where the user is signed in, each with Sign out (this browser's signs it out). */
export function Sessions() {
  const { items, notice, act: signOut } = useManagedList<SessionItem, [string]>(loadSessionsAction, signOutSessionAction);
  if (!items) return null;
  return (
    <section aria-labelledby="sessions-heading" className="flex flex-col gap-2">
      <h3 id="sessions-heading" className="text-sm font-semibold">
        Sessions
      </h3>
      {notice ? (
        <Notice tone={notice.ok ? "success" : "danger"} live>
          {notice.message}
        </Notice>
      ) : null}
      <ul className={listClass}>
        {items.map((item) => (
          <li key={item.sid} data-testid="session" className={listItemClass}>
            <span className="min-w-0">
              <span className="font-medium">{item.browser}</span>
              {item.current ? (
                <span className="ml-2 rounded bg-emerald-100 px-1.5 py-0.5 text-xs font-medium text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100">
                  This browser
                </span>
              ) : null}
              <span className="block text-xs break-words text-slate-600 dark:text-slate-400">
                {item.ip ?? "Unknown IP"} · signed in {when(item.signedInAt)} · last active {when(item.lastActiveAt)}
              </span>
            </span>
            <ActionButton
              variant="secondary"
              onAction={() => signOut(item.sid)}
              aria-label={item.current ? "Sign out this browser" : `Sign out ${item.browser}, signed in ${when(item.signedInAt)}`}
            >
              Sign out
            </ActionButton>
          </li>
        ))}
      </ul>
    </section>
  );
}
