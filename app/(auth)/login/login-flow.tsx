"use client";
import { useActionState, useMemo, useState } from "react";
import { useRouter } from "next/navigation";
import { Card } from "@/components/ui/card";
import { Checkbox, Field } from "@/components/ui/field";
import { AuthenticationCodeField } from "@/components/two-factor/authentication-code-field";
import { SubmitButton, Button } from "@/components/ui/button";
import { FormMessage } from "@/components/ui/form-message";
import dynamic from "next/dynamic";
import { abandonSignInAction, cancelSignInAction } from "./actions";
import type { LoginState } from "./finish-sign-in";
import { postStep } from "./post-step";
import { confirmSignInEnrollmentAction, finishSignInEnrollmentAction, startSignInEnrollmentAction } from "./enroll-actions";

type Step = "password" | "code" | "enroll";

// Only a sign-in whose enrollment an admin requires needs the enrollment steps: their own chunk.
const Enrollment = dynamic(() => import("@/components/two-factor/enrollment").then((m) => m.Enrollment));

/** Both sign-in steps; every server answer says which step is due next. */
export function LoginFlow({
  initialStep,
  callbackUrl,
  trustDays,
}: {
  initialStep: Step;
  callbackUrl: string;
  /** Days a trusted browser skips the code step; null when admins do not allow it. */
  trustDays: number | null;
}) {
  const router = useRouter();
  const [state, submit] = useActionState<LoginState, FormData>(
    async (previous, formData) => {
      const answer = await postStep(formData.get("step") === "code" ? "code" : "password", formData);
      if (answer.status !== "signed-in") return answer;
      // The session cookie is set: go on in this page, as a redirect() would have, without a full reload.
      router.replace(answer.to);
      return { status: "idle", step: previous.step };
    },
    { status: "idle", step: initialStep },
  );
  const step: Step = state.step ?? initialStep;
  return (
    <Card>
      {step === "password" ? (
        <PasswordStep state={state} action={submit} callbackUrl={callbackUrl} />
      ) : step === "enroll" ? (
        <EnrollStep callbackUrl={callbackUrl} />
      ) : (
        <CodeStep state={state} action={submit} callbackUrl={callbackUrl} trustDays={trustDays} />
      )}
    </Card>
  );
}

function PasswordStep({ state, action, callbackUrl }: { state: LoginState; action: (f: FormData) => void; callbackUrl: string }) {
  const errors = state.status === "error" ? state.fieldErrors : undefined;
  return (
    <form action={action} className="flex flex-col gap-4" noValidate>
      <h1 className="text-xl font-semibold">Sign in</h1>
      <input type="hidden" name="step" value="password" />
      <input type="hidden" name="callbackUrl" value={callbackUrl} />
      <Field label="Email" name="email" type="email" autoComplete="username" required autoFocus maxLength={254} errors={errors?.email} defaultValue={state.email} />
      <Field label="Password" name="password" type="password" autoComplete="current-password" required maxLength={1024} errors={errors?.password} />
      <FormMessage state={errors ? { status: "idle" } : state} />
      <SubmitButton>Sign in</SubmitButton>
    </form>
  );
}

/** Forced enrollment: an admin requires 2FA and this user has none yet; no way around it. */
function EnrollStep({ callbackUrl }: { callbackUrl: string }) {
  const actions = useMemo(
    () => ({
      start: startSignInEnrollmentAction,
      confirm: confirmSignInEnrollmentAction,
      finish: finishSignInEnrollmentAction.bind(null, callbackUrl),
    }),
    [callbackUrl],
  );
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-xl font-semibold">Set up two-factor authentication</h1>
      <p className="text-sm text-slate-700 dark:text-slate-300">
        Your administrator requires two-factor authentication for your account. Set it up to continue.
      </p>
      <Enrollment
        actions={actions}
        headingLevel={2}
        onFinished={() => {}}
        // A full reload: the flow's state still says "enroll" and must start over from the server's view.
        onCancel={() => abandonSignInAction().then(() => window.location.assign("/login"))}
      />
    </div>
  );
}

function CodeStep({
  state,
  action,
  callbackUrl,
  trustDays,
}: {
  state: LoginState;
  action: (f: FormData) => void;
  callbackUrl: string;
  trustDays: number | null;
}) {
  const [method, setMethod] = useState<"totp" | "recovery">("totp");
  // Every error of this step is about the code just entered: shown at, and tied to, the field.
  const errors = state.status === "error" ? (state.fieldErrors?.code ?? [state.message]) : undefined;
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-xl font-semibold">Two-factor authentication</h1>
      <form action={action} className="flex flex-col gap-4" noValidate key={method}>
        <input type="hidden" name="step" value="code" />
        <input type="hidden" name="method" value={method} />
        <input type="hidden" name="callbackUrl" value={callbackUrl} />
        {method === "totp" ? (
          <AuthenticationCodeField errors={errors} hint="Open your authenticator app and enter the 6-digit code." />
        ) : (
          <Field
            label="Recovery code"
            name="code"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            maxLength={64}
            autoFocus
            required
            errors={errors}
            hint="Each recovery code can be used once."
          />
        )}
        {method === "totp" && trustDays !== null ? (
          <Checkbox label="Trust this browser" name="trust" aria-describedby="trust-hint" />
        ) : null}
        {method === "totp" && trustDays !== null ? (
          <p id="trust-hint" className="-mt-3 pl-6 text-xs text-slate-600 dark:text-slate-400">
            Skip the code on this browser for {trustDays} {trustDays === 1 ? "day" : "days"}. Only on a device you alone use.
          </p>
        ) : null}
        <SubmitButton>Verify</SubmitButton>
      </form>
      <div className="flex items-center justify-between text-sm">
        <Button variant="ghost" className="px-0" onClick={() => setMethod(method === "totp" ? "recovery" : "totp")}>
          {method === "totp" ? "Use a recovery code" : "Use an authentication code"}
        </Button>
        <form action={cancelSignInAction}>
          <SubmitButton variant="subtle" className="px-0">
            Cancel
          </SubmitButton>
        </form>
      </div>
    </div>
  );
}
