"use client";
import { useActionState } from "react";
import { SubmitButton } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { NewPasswordField } from "@/components/ui/new-password-field";
import type { FormState } from "@/lib/validation/messages";
import { createAdministratorAction } from "./actions";

export function SetupForm({ token, passwordMinLength }: { token: string; passwordMinLength: number }) {
  const [state, action] = useActionState<FormState, FormData>(createAdministratorAction, { status: "idle" });
  const errors = state.status === "error" ? state.fieldErrors : undefined;
  return (
    <form action={action} className="flex flex-col gap-4" noValidate>
      <input type="hidden" name="token" value={token} />
      <Field label="Name" name="name" required autoComplete="name" maxLength={100} errors={errors?.name} />
      <Field label="Email" name="email" type="email" required autoComplete="username" maxLength={254} errors={errors?.email} />
      <NewPasswordField
        label="Password"
        name="password"
        minLength={passwordMinLength}
        errors={errors?.password}
        hint={`At least ${passwordMinLength} characters. Not your name or email.`}
        context={{ fromForm: true, whose: "your" }}
      />
      <FormMessage state={state.status === "error" && !errors ? state : { status: "idle" }} />
      <SubmitButton>Create administrator</SubmitButton>
    </form>
  );
}
