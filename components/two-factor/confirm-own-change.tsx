"use client";
import { useActionState, useEffect, useRef } from "react";
import { ConfirmStep } from "@/app/(app)/admin/confirm-step";
import { confirmOwnChangeAction } from "@/app/(app)/my-settings/security-key-actions";
import type { StepUpMethod } from "@/lib/admin/step-up";
import type { FormState } from "@/lib/validation/messages";

/**
 * My Settings' confirmation of a change to the user's own sign-in (a key
 * added or removed; Disable or new codes with keys only): Authentication
 * code, Password without 2FA, or a security key → Confirm, for this
 * session; then what was asked for goes on (`onConfirmed`).
 */
export function ConfirmOwnChange({ method, onConfirmed, onCancel }: { method: StepUpMethod; onConfirmed: () => Promise<void>; onCancel: () => void }) {
  const [state, confirm] = useActionState<FormState, FormData>(confirmOwnChangeAction, { status: "idle" });
  const handled = useRef<FormState | null>(null);
  useEffect(() => {
    // Once per confirmation: what goes on may itself re-render this step.
    if (state.status !== "success" || handled.current === state) return;
    handled.current = state;
    void onConfirmed();
  }, [state, onConfirmed]);
  return <ConfirmStep method={method} state={state} action={confirm} onCancel={onCancel} />;
}
