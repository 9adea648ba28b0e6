"use client";
import { useActionState } from "react";
import { SubmitButton } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import type { FormState } from "@/lib/validation/messages";
import { createAdministratorAction } from "./actions";

export function SetupForm({ token }: { token: string }) {
  const [state, action] = useActionState<FormState, FormData>(createAdministratorAction, { status: "idle" });
  const errors = state.status === "error" ? state.fieldErrors : undefined;
  return (
    <form action={action} className="flex flex-col gap-4" noValidate>
      <input type="hidden" name="token" value={token} />
      <Field label="Name" name="name" required autoComplete="name" maxLength={100} errors={errors?.name} />
      <Field label="Email" name="email" type="email" required autoComplete="username" maxLength={254} errors={errors?.email} />
      <Field label="Password" name="password" type="password" required autoComplete="new-password" minLength={8} maxLength={128} errors={errors?.password} hint="At least 8 characters." />
      <FormMessage state={state.status === "error" && !errors ? state : { status: "idle" }} />
      <SubmitButton>Create administrator</SubmitButton>
    </form>
  );
}
