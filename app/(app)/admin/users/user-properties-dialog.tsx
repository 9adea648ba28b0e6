"use client";
import { startTransition, useEffect, useState } from "react";
import { ActionButton, Button, SubmitButton } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Checkbox, Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { toast } from "@/components/ui/toast";
import type { UserProperties } from "@/lib/admin/user-properties";
import { ConfirmStep, useConfirmedAction } from "../confirm-step";
import { loadUserPropertiesAction, removeUserSecurityKeysAction, removeUserTrustedBrowsersAction, saveUserPropertiesAction } from "./user-actions";
import { UserSecurityKeys } from "./user-security-keys";

/**
 * User properties: Name, Email, Administrator, Two factor authentication enabled → Save, and the
 * user's security keys with Remove (each with the admin's confirmation when needed).
 */
export function UserPropertiesDialog({ userId, onClose }: { userId: string; onClose: () => void }) {
  const [user, setUser] = useState<UserProperties | null | undefined>(undefined);
  useEffect(() => {
    loadUserPropertiesAction(userId).then(setUser, () => setUser(null));
  }, [userId]);
  return (
    <Dialog open onClose={onClose} title="User properties">
      {user === undefined ? (
        <p role="status">Loading…</p>
      ) : user === null ? (
        <p>This user no longer exists.</p>
      ) : (
        <PropertiesForm user={user} onClose={onClose} />
      )}
    </Dialog>
  );
}

function TrustedBrowserCount({ userId, initial }: { userId: string; initial: number }) {
  const [count, setCount] = useState(initial);
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <div className="flex items-center gap-3 pl-6 text-xs text-slate-600 dark:text-slate-400">
      <span role="status">{notice ?? `Trusted browsers: ${count}`}</span>
      {count > 0 ? (
        <ActionButton
          variant="secondary"
          className="min-h-8 px-2 py-1 text-xs"
          onAction={() =>
            removeUserTrustedBrowsersAction(userId).then((result) => {
              if (result.status === "success") {
                setCount(0);
                setNotice(result.message ?? null);
              }
            })
          }
        >
          Remove all
        </ActionButton>
      ) : null}
    </div>
  );
}

function PropertiesForm({ user, onClose }: { user: UserProperties; onClose: () => void }) {
  const { state, submit, confirmation } = useConfirmedAction(saveUserPropertiesAction.bind(null, user.id));
  useEffect(() => {
    if (state.status !== "success") return;
    toast(`Saved the changes to ${user.name}.`);
    onClose();
  }, [state, onClose, user.name]);

  const removal = useConfirmedAction(removeUserSecurityKeysAction.bind(null, user.id));
  // As the last removal left the user (its answer carries the properties: keys, 2FA, sessions), else as loaded.
  // Name and email stay what the admin may be typing.
  const now = ("user" in removal.state && removal.state.user) || user;
  const keyNotice = removal.state.status === "error" || removal.state.status === "success" ? (removal.state.message ?? null) : null;
  const removeKeys = (keyId: string) => {
    const formData = new FormData();
    formData.set("keyId", keyId);
    startTransition(() => removal.submit(formData));
  };

  const errors = state.status === "error" ? state.fieldErrors : undefined;
  const removes = [now.totp ? "authenticator" : null, "recovery codes", now.securityKeys.length > 0 ? "security keys" : null].filter(Boolean).join(", ");
  const twoFactorNote = now.twoFactorEnabled
    ? `Unticking removes this user's ${removes} and trusted browsers, and signs them out.`
    : now.twoFactorRequired
      ? "Enrollment is required at this user's next sign-in."
      : "Ticking makes enrollment the first thing at this user's next sign-in.";
  // Cancel leaves the dialog, as it does from the properties.
  if (confirmation) return <ConfirmStep {...confirmation} onCancel={onClose} />;
  return (
    <>
      {/* Removing a key asks first; its Cancel comes back here. The form stays mounted (hidden) so that
          what the admin typed into it meanwhile is still there. */}
      {removal.confirmation ? <ConfirmStep {...removal.confirmation} /> : null}
      <form action={submit} hidden={!!removal.confirmation} className="flex flex-col gap-4" noValidate>
        <Field label="Name" name="name" defaultValue={user.name} required maxLength={100} errors={errors?.name} />
        <Field label="Email" name="email" type="email" defaultValue={user.email} required maxLength={254} errors={errors?.email} />
        <Checkbox label="Administrator" name="admin" defaultChecked={user.admin} />
        <div className="flex flex-col gap-1">
          {/* Keyed by the state: when removing the last key turned 2FA off, the box shows it (a Save then keeps it off,
              instead of making enrollment due). */}
          <Checkbox
            key={String(now.twoFactorEnabled || now.twoFactorRequired)}
            label="Two factor authentication enabled"
            name="twoFactorEnabled"
            defaultChecked={now.twoFactorEnabled || now.twoFactorRequired}
          />
          <p className="pl-6 text-xs text-slate-600 dark:text-slate-400">{twoFactorNote}</p>
          <UserSecurityKeys keys={now.securityKeys} notice={keyNotice} pending={removal.pending} onRemove={removeKeys} />
          {/* A key removed ends the user's trusted browsers: the count starts again from the answer. */}
          <TrustedBrowserCount key={now === user ? "loaded" : now.trustedBrowsers} userId={user.id} initial={now.trustedBrowsers} />
          <p className="pl-6 text-xs text-slate-600 dark:text-slate-400">Ends {now.activeSessions} active {now.activeSessions === 1 ? "session" : "sessions"}.</p>
        </div>
        <FormMessage state={state.status === "error" && !errors ? state : { status: "idle" }} />
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <SubmitButton>Save</SubmitButton>
        </div>
      </form>
    </>
  );
}
