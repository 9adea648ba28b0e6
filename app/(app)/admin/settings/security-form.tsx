"use client";
import { useActionState } from "react";
import { Card } from "@/components/ui/card";
import { Checkbox, Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { SubmitButton } from "@/components/ui/button";
import { inputClass } from "@/components/ui/input-class";
import type { FormState } from "@/lib/validation/messages";
import { saveSecuritySettingsAction } from "./actions";

export function SecurityForm({
  twoFactorEnabled,
  trustBrowserEnabled,
  trustBrowserDays,
  requireTwoFactorFor,
  requireGraceDays,
  enrolledUsers,
}: {
  twoFactorEnabled: boolean;
  trustBrowserEnabled: boolean;
  trustBrowserDays: number;
  requireTwoFactorFor: "nobody" | "admins" | "everyone";
  requireGraceDays: number;
  enrolledUsers: number;
}) {
  const [state, action] = useActionState<FormState, FormData>(saveSecuritySettingsAction, { status: "idle" });
  const enrolled = enrolledUsers === 1 ? "1 user has" : `${enrolledUsers} users have`;
  return (
    <Card>
      <form action={action} className="flex flex-col gap-4">
        <section aria-labelledby="security-heading" className="flex flex-col gap-3">
          <h2 id="security-heading" className="text-lg font-semibold">
            Security
          </h2>
          <Checkbox label="Enable two factor user login" name="twoFactorEnabled" defaultChecked={twoFactorEnabled} />
          <p className="text-sm text-slate-600 dark:text-slate-400">
            {enrolled} two-factor authentication set up.{" "}
            {twoFactorEnabled
              ? "Turning this off stops asking for codes; their setup is kept."
              : "While this is off nobody is asked for a code and nobody can enrol; turning it on again restores their setup."}
          </p>
          <Checkbox label="Allow users to trust the browser" name="trustBrowserEnabled" defaultChecked={trustBrowserEnabled} />
          <Field
            label="Days a trusted browser skips the code"
            name="trustBrowserDays"
            type="number"
            min={1}
            max={90}
            defaultValue={trustBrowserDays}
            className="max-w-xs"
            errors={state.status === "error" ? state.fieldErrors?.trustBrowserDays : undefined}
            hint="1 to 90 days. Lowering it shortens existing trust; turning the option off removes every trusted browser."
          />
          <div className="flex flex-col gap-1">
            <label htmlFor="require-for" className="text-sm font-medium">
              Require two-factor authentication for
            </label>
            <select
              id="require-for"
              name="requireTwoFactorFor"
              defaultValue={requireTwoFactorFor}
              aria-describedby="require-for-hint"
              className={`max-w-xs ${inputClass}`}
            >
              <option value="nobody">Nobody</option>
              <option value="admins">Administrators</option>
              <option value="everyone">Everyone</option>
            </select>
            <p id="require-for-hint" className="text-xs text-slate-600 dark:text-slate-400">
              Users without two-factor authentication see the days left; after the grace period, setting it up comes first at
              sign-in. Administrators are sent to set it up, never locked out.
            </p>
          </div>
          <Field
            label="Grace period (days)"
            name="requireGraceDays"
            type="number"
            min={0}
            max={90}
            defaultValue={requireGraceDays}
            className="max-w-xs"
            errors={state.status === "error" ? state.fieldErrors?.requireGraceDays : undefined}
          />
        </section>
        <FormMessage state={state} />
        <div>
          <SubmitButton>Save</SubmitButton>
        </div>
      </form>
    </Card>
  );
}
