"use client";
import { AuthenticationCodeField } from "@/components/two-factor/authentication-code-field";
import { FormMessage } from "@/components/ui/form-message";
import { SubmitButton } from "@/components/ui/button";
import type { FormState } from "@/lib/validation/messages";

/** The one "Authentication code" form every step-up uses (enroll, disable, new codes). */
export function CodeForm({
  action,
  state,
  submitLabel,
  danger = false,
  children,
}: {
  action: (formData: FormData) => void;
  state: FormState;
  submitLabel: string;
  danger?: boolean;
  children?: React.ReactNode;
}) {
  const errors = state.status === "error" ? (state.fieldErrors?.code ?? [state.message]) : undefined;
  return (
    <form action={action} className="flex flex-col gap-3" noValidate>
      <AuthenticationCodeField errors={errors} />
      <FormMessage state={state.status === "success" ? state : { status: "idle" }} />
      <div className="flex justify-end gap-2">
        {children}
        <SubmitButton variant={danger ? "danger" : "primary"}>{submitLabel}</SubmitButton>
      </div>
    </form>
  );
}
