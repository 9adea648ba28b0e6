"use client";
import { Card } from "@/components/ui/card";
import { Dialog } from "@/components/ui/dialog";
import { Checkbox, Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { SubmitButton } from "@/components/ui/button";
import { inputClass } from "@/components/ui/input-class";
import { ConfirmStep, useConfirmedAction } from "../confirm-step";
import { saveSecuritySettingsAction } from "./actions";

export function SecurityForm({
  twoFactorEnabled,
  trustBrowserEnabled,
  trustBrowserDays,
  passkeySignInEnabled,
  requireSecurityKeyForAdmins,
  requireTwoFactorFor,
  requireGraceDays,
  enrolledUsers,
}: {
  twoFactorEnabled: boolean;
  trustBrowserEnabled: boolean;
  trustBrowserDays: number;
  passkeySignInEnabled: boolean;
  requireSecurityKeyForAdmins: boolean;
  requireTwoFactorFor: "nobody" | "admins" | "everyone";
  requireGraceDays: number;
  enrolledUsers: number;
}) {
  // A save that weakens sign-in waits for the admin's confirmation, then the settings as submitted are saved.
  const { state, submit, confirmation } = useConfirmedAction(saveSecuritySettingsAction);
  const enrolled = enrolledUsers === 1 ? "1 user has" : `${enrolledUsers} users have`;
  return (
    <Card>
      <form action={submit} className="flex flex-col gap-4">
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
          <Checkbox label="Allow sign-in with a passkey" name="passkeySignInEnabled" defaultChecked={passkeySignInEnabled} aria-describedby="passkey-hint" />
          <p id="passkey-hint" className="-mt-2 pl-6 text-xs text-slate-600 dark:text-slate-400">
            A passkey that verifies its user (a fingerprint, a face, a PIN) then signs in without password or code. Other
            security keys stay a second factor.
          </p>
          <Checkbox
            label="Require a security key for administrators"
            name="requireSecurityKeyForAdmins"
            defaultChecked={requireSecurityKeyForAdmins}
            aria-describedby="admin-key-hint"
          />
          <p id="admin-key-hint" className="-mt-2 pl-6 text-xs text-slate-600 dark:text-slate-400">
            An administrator without a key still signs in, and is sent to add one before using Administration.
          </p>
          {state.status === "error" && state.fieldErrors?.requireSecurityKeyForAdmins ? (
            <p role="alert" className="-mt-2 pl-6 text-sm text-red-700 dark:text-red-400">
              {state.fieldErrors.requireSecurityKeyForAdmins[0]}
            </p>
          ) : null}
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
        <FormMessage state={state.status === "confirm" ? { status: "idle" } : state} />
        <div>
          <SubmitButton>Save</SubmitButton>
        </div>
      </form>
      <Dialog open={!!confirmation} onClose={() => confirmation?.onCancel()} title="Confirm the change">
        {confirmation ? <ConfirmStep {...confirmation} /> : null}
      </Dialog>
    </Card>
  );
}
