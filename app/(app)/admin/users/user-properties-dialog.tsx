"use client";
import { useActionState, useEffect, useRef, useState, startTransition } from "react";
import { ActionButton, Button, SubmitButton } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Checkbox, Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { toast } from "@/components/ui/toast";
import type { UserProperties } from "@/lib/admin/user-properties";
import type { FormState } from "@/lib/validation/messages";
import {
  confirmAdminAction,
  loadUserPropertiesAction,
  removeUserTrustedBrowsersAction,
  saveUserPropertiesAction,
  type PropertiesState,
} from "./user-actions";

/** User properties: Name, Email, Administrator, Two factor authentication enabled → Save (with the admin's confirmation when needed). */
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
  const [state, save] = useActionState<PropertiesState, FormData>(saveUserPropertiesAction.bind(null, user.id), { status: "idle" });
  const [confirmState, confirm] = useActionState<FormState, FormData>(confirmAdminAction, { status: "idle" });
  const pending = useRef<FormData | null>(null);
  // Once confirmed, the edit the admin already made is saved without asking again.
  useEffect(() => {
    if (confirmState.status === "success" && pending.current) {
      const formData = pending.current;
      pending.current = null;
      startTransition(() => save(formData));
    }
  }, [confirmState, save]);
  useEffect(() => {
    if (state.status !== "success") return;
    toast(`Saved the changes to ${user.name}.`);
    onClose();
  }, [state, onClose, user.name]);

  const errors = state.status === "error" ? state.fieldErrors : undefined;
  const twoFactorNote = user.twoFactorEnabled
    ? "Unticking removes this user's authenticator, recovery codes and trusted browsers, and signs them out."
    : user.twoFactorRequired
      ? "Enrollment is required at this user's next sign-in."
      : "Ticking makes enrollment the first thing at this user's next sign-in.";
  if (state.status === "confirm") {
    const label = state.method === "code" ? "Authentication code" : "Password";
    const errors = confirmState.status === "error" ? [confirmState.message] : undefined;
    return (
      <form action={confirm} className="flex flex-col gap-4" noValidate>
        <p className="text-sm">Confirm this change with your {state.method === "code" ? "current authentication code" : "password"}.</p>
        {state.method === "code" ? (
          <Field label={label} name="secret" inputMode="numeric" autoComplete="one-time-code" maxLength={7} autoFocus required errors={errors} />
        ) : (
          <Field label={label} name="secret" type="password" autoComplete="current-password" maxLength={1024} autoFocus required errors={errors} />
        )}
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <SubmitButton>Confirm</SubmitButton>
        </div>
      </form>
    );
  }
  return (
    <form
      action={(formData) => {
        pending.current = formData;
        save(formData);
      }}
      className="flex flex-col gap-4"
      noValidate
    >
      <Field label="Name" name="name" defaultValue={user.name} required maxLength={100} errors={errors?.name} />
      <Field label="Email" name="email" type="email" defaultValue={user.email} required maxLength={254} errors={errors?.email} />
      <Checkbox label="Administrator" name="admin" defaultChecked={user.admin} />
      <div className="flex flex-col gap-1">
        <Checkbox
          label="Two factor authentication enabled"
          name="twoFactorEnabled"
          defaultChecked={user.twoFactorEnabled || user.twoFactorRequired}
        />
        <p className="pl-6 text-xs text-slate-600 dark:text-slate-400">{twoFactorNote}</p>
        <TrustedBrowserCount userId={user.id} initial={user.trustedBrowsers} />
      </div>
      <FormMessage state={state.status === "error" && !errors ? state : { status: "idle" }} />
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onClose}>
          Cancel
        </Button>
        <SubmitButton>Save</SubmitButton>
      </div>
    </form>
  );
}
