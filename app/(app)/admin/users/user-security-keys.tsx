"use client";
import { useId, useState } from "react";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import type { UserSecurityKey } from "@/lib/admin/user-properties";

/**
 * User properties: "Security keys: N", each key by name (synced, or this
 * device only) with Remove, and Remove all when there are several. The
 * removal and its confirmation belong to the dialog (`onRemove`): the
 * confirmation takes the dialog's place while the properties wait.
 */
export function UserSecurityKeys({
  keys,
  notice,
  pending,
  onRemove,
}: {
  keys: UserSecurityKey[];
  notice: string | null;
  pending: boolean;
  /** A key's id, or "all". */
  onRemove: (keyId: string) => void;
}) {
  const id = useId();
  const [clicked, setClicked] = useState<string | null>(null);
  const remove = (keyId: string) => {
    setClicked(keyId);
    onRemove(keyId);
  };
  const button = (keyId: string, label: string, describedBy?: string) => (
    <Button variant="secondary" className="min-h-8 px-2 py-1 text-xs" disabled={pending} aria-describedby={describedBy} onClick={() => remove(keyId)}>
      {pending && clicked === keyId ? <Spinner /> : null}
      {label}
      {pending && clicked === keyId ? <span className="sr-only"> (working…)</span> : null}
    </Button>
  );
  return (
    <div className="flex flex-col gap-1 pl-6 text-xs text-slate-600 dark:text-slate-400">
      <div className="flex items-center gap-3">
        <span id={`${id}-count`}>Security keys: {keys.length}</span>
        {keys.length > 1 ? button("all", "Remove all") : null}
      </div>
      {keys.length > 0 ? (
        <ul aria-labelledby={`${id}-count`} className="flex flex-col gap-1">
          {keys.map((key) => (
            <li key={key.id} className="flex items-center justify-between gap-3">
              <span id={`${id}-${key.id}`} className="break-all">
                <span className="font-medium text-slate-900 dark:text-slate-100">{key.name}</span> · {key.synced ? "synced" : "this device only"}
              </span>
              {/* Named Remove (the ui-contract's word); which key it removes is its description. */}
              {button(key.id, "Remove", `${id}-${key.id}`)}
            </li>
          ))}
        </ul>
      ) : null}
      <span role="status" className="empty:sr-only">
        {notice}
      </span>
    </div>
  );
}
