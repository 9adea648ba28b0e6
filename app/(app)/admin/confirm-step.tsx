"use client";
import { startTransition, useActionState, useEffect, useRef, useState } from "react";
import { Button, SubmitButton } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import type { StepUpMethod } from "@/lib/admin/step-up";
import type { FormState } from "@/lib/validation/messages";
import { askKeyToSign } from "@/components/two-factor/security-key-prompt";
import { keyConfirmationOptionsAction } from "@/app/(app)/my-settings/security-key-actions";
import { confirmAdminAction, type ConfirmState } from "./step-up-actions";

export type Confirmation = { method: StepUpMethod; state: FormState; action: (formData: FormData) => void; onCancel: () => void };

/**
 * A form action that may answer "confirm first" (a change that weakens sign-in,
 * lib/admin/step-up.ts). `submit` keeps the FormData it sends; once the admin
 * confirms, that very FormData is sent again: what was asked for is what is
 * saved, whatever the form shows meanwhile. `confirmation` is set while the
 * admin is being asked; `pending` while the action runs (for buttons outside a form).
 */
export function useConfirmedAction<S extends FormState | ConfirmState = FormState | ConfirmState>(action: (prev: S, formData: FormData) => Promise<S>) {
  const [state, save, saving] = useActionState<S, FormData>(action, { status: "idle" } as Awaited<S>);
  const [confirmState, confirm] = useActionState<FormState, FormData>(confirmAdminAction, { status: "idle" });
  const pending = useRef<FormData | null>(null);
  const [cancelled, setCancelled] = useState<unknown>(null);
  useEffect(() => {
    if (confirmState.status === "success" && pending.current) {
      const formData = pending.current;
      startTransition(() => save(formData));
    }
  }, [confirmState, save]);
  useEffect(() => {
    if (state.status !== "confirm") pending.current = null; // answered: nothing left to send again
  }, [state]);
  const submit = (formData: FormData) => {
    pending.current = formData;
    save(formData);
  };
  const asking = state.status === "confirm" && state !== cancelled ? (state as ConfirmState) : null;
  const confirmation: Confirmation | null = asking && {
    method: asking.method,
    state: confirmState,
    action: confirm,
    onCancel: () => {
      pending.current = null;
      setCancelled(asking);
    },
  };
  return { state, submit, confirmation, pending: saving };
}

/** Authentication code (or Password without 2FA, or the security key of a user who has only keys) → Confirm. */
export function ConfirmStep({ method, state, action, onCancel }: Confirmation) {
  if (method === "key") return <KeyConfirmStep state={state} action={action} onCancel={onCancel} />;
  const errors = state.status === "error" ? [state.message] : undefined;
  return (
    <form action={action} className="flex flex-col gap-4" noValidate>
      <p className="text-sm">Confirm this change with your {method === "code" ? "current authentication code" : "password"}.</p>
      {method === "code" ? (
        <Field label="Authentication code" name="secret" inputMode="numeric" autoComplete="one-time-code" maxLength={7} autoFocus required errors={errors} />
      ) : (
        <Field label="Password" name="secret" type="password" autoComplete="current-password" maxLength={1024} autoFocus required errors={errors} />
      )}
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
        <SubmitButton>Confirm</SubmitButton>
      </div>
    </form>
  );
}

/** The security key's prompt for this session, then its answer goes as the confirmation. */
function KeyConfirmStep({ state, action, onCancel }: Omit<Confirmation, "method">) {
  const [failure, setFailure] = useState<string | null>(null);
  const message = failure ?? (state.status === "error" ? state.message : null);
  return (
    <form
      action={async (formData) => {
        setFailure(null);
        const prompt = await keyConfirmationOptionsAction();
        if (!prompt.ok) return setFailure(prompt.message);
        const signed = await askKeyToSign(prompt.options);
        if (!signed.ok) return setFailure(signed.message);
        formData.set("assertion", signed.answer);
        // After the awaits this is no longer inside the form's transition: start one for the dispatch.
        startTransition(() => action(formData));
      }}
      className="flex flex-col gap-4"
      noValidate
    >
      <p className="text-sm">Confirm this change with your security key: select Confirm, then touch or unlock your key.</p>
      {message ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          {message}
        </p>
      ) : null}
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
        {/* Confirm, as with a code or a password (ui-contract.md, "Confirmations"): the key's prompt follows. */}
        <SubmitButton>Confirm</SubmitButton>
      </div>
    </form>
  );
}
