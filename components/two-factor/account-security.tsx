"use client";
import { useActionState, useEffect } from "react";
import { Button, SubmitButton } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { NewPasswordField } from "@/components/ui/new-password-field";
import { ViewHeading } from "@/components/two-factor/view-heading";
import { changePasswordAction, signOutEverywhereAction } from "@/app/(app)/my-settings/actions";
import type { FormState } from "@/lib/validation/messages";

/** My Settings → Password and sessions: the two things a person does when they fear someone has their account. */
export function AccountSecurity({ onChangePassword }: { onChangePassword: () => void }) {
  return (
    <section aria-labelledby="account-heading" className="flex flex-col gap-2">
      <h3 id="account-heading" className="text-sm font-semibold">
        Password and sessions
      </h3>
      <div className="flex flex-wrap gap-2">
        <Button variant="secondary" data-opens="password" onClick={onChangePassword}>
          Change password
        </Button>
        <form action={signOutEverywhereAction}>
          <SubmitButton variant="secondary">Sign out everywhere</SubmitButton>
        </form>
      </div>
    </section>
  );
}

/** Current password, then the new one; other sessions and trusted browsers end with the old password. */
export function ChangePasswordForm({
  onDone,
  user,
}: {
  onDone: (message?: string) => void;
  user: { name: string; email: string; passwordMinLength: number };
}) {
  const [state, action] = useActionState<FormState, FormData>(changePasswordAction, { status: "idle" });
  useEffect(() => {
    if (state.status === "success") onDone(state.message);
  }, [state, onDone]);
  const errors = state.status === "error" ? state.fieldErrors : undefined;
  return (
    <div className="flex flex-col gap-3">
      <ViewHeading>Change password</ViewHeading>
      <form action={action} className="flex flex-col gap-3" noValidate>
        <Field label="Current password" name="currentPassword" type="password" autoComplete="current-password" required errors={errors?.currentPassword} />
        <NewPasswordField
          label="New password"
          name="newPassword"
          minLength={user.passwordMinLength}
          hint={`At least ${user.passwordMinLength} characters, not your name or email. Every other session and trusted browser will be signed out.`}
          errors={errors?.newPassword}
          context={{ name: user.name, email: user.email, whose: "your" }}
        />
        <FormMessage state={state.status === "error" && !errors?.currentPassword && !errors?.newPassword ? state : { status: "idle" }} />
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => onDone()}>
            Cancel
          </Button>
          <SubmitButton>Change password</SubmitButton>
        </div>
      </form>
    </div>
  );
}
