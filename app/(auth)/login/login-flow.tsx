"use client";
import { Suspense, lazy, startTransition, useActionState, useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { useRouter } from "next/navigation";
import { Card } from "@/components/ui/card";
import { Checkbox, Field } from "@/components/ui/field";
import { AuthenticationCodeField } from "@/components/two-factor/authentication-code-field";
import { Button, SubmitButton, buttonClass } from "@/components/ui/button";
import { FormMessage } from "@/components/ui/form-message";
import { askKeyToSign } from "@/components/two-factor/security-key-prompt";
import type { Factors } from "@/lib/two-factor/factors";
import { BROWSER_MESSAGES } from "@/lib/validation/browser-messages";
import { abandonSignInAction, cancelSignInAction, passkeyOptionsAction, securityKeyOptionsAction } from "./actions";
import type { LoginState } from "./finish-sign-in";
import { postStep } from "./post-step";
import { confirmSignInEnrollmentAction, finishSignInEnrollmentAction, startSignInEnrollmentAction } from "./enroll-actions";

type Step = "password" | "code" | "enroll";

// Only a sign-in whose enrollment an admin requires needs the enrollment steps: their own chunk. React's lazy,
// not next/dynamic, whose loader would be part of this page's script (~0.6 KiB gzip).
const Enrollment = lazy(() => import("@/components/two-factor/enrollment").then((m) => ({ default: m.Enrollment })));

/** Both sign-in steps; every server answer says which step is due next. */
export function LoginFlow({
  initialStep,
  initialFactors,
  initialMessage,
  initialMethod,
  callbackUrl,
  trustDays,
  passkeys,
}: {
  initialStep: Step;
  /** The message of a form posted without JavaScript, after its redirect back here (./form-answer.ts). */
  initialMessage: string | null;
  /** The way to finish asked for by a link (JavaScript off: the switch is a link). */
  initialMethod: Method | null;
  /** The pending user's second factors: Use security key comes first when they have one. */
  initialFactors: Factors;
  callbackUrl: string;
  /** Days a trusted browser skips the code step; null when admins do not allow it. */
  trustDays: number | null;
  /** The instance allows Sign in with a passkey. */
  passkeys: boolean;
}) {
  const router = useRouter();
  const [factors, setFactors] = useState(initialFactors);
  const [state, submit] = useActionState<LoginState, FormData>(
    async (previous, formData) => {
      if (formData.get("step") === "passkey" && !formData.get("assertion")) {
        const signed = await signWithPasskey();
        if (!signed.ok) return signed.state;
        formData.set("assertion", signed.answer);
      } else if (formData.get("method") === "security_key") {
        // The browser's prompt first; what it answers goes with the form, as a code would.
        const signed = await signWithKey();
        if (!signed.ok) return signed.state;
        formData.set("assertion", signed.answer);
      }
      const answer = await postStep(stepOf(formData), formData);
      if (answer.status !== "signed-in") {
        if (answer.factors) setFactors(answer.factors);
        return answer;
      }
      // The session cookie is set: go on in this page, as a redirect() would have, without a full reload.
      router.replace(answer.to);
      return { status: "idle", step: previous.step };
    },
    initialMessage ? { status: "error", message: initialMessage, step: initialStep } : { status: "idle", step: initialStep },
  );
  const step: Step = state.step ?? initialStep;
  return (
    <Card>
      {step === "password" ? (
        <PasswordStep state={state} action={submit} callbackUrl={callbackUrl} passkeys={passkeys} />
      ) : step === "enroll" ? (
        <EnrollStep callbackUrl={callbackUrl} />
      ) : (
        <CodeStep state={state} action={submit} callbackUrl={callbackUrl} trustDays={trustDays} factors={factors} initialMethod={initialMethod} />
      )}
    </Card>
  );
}

function PasswordStep({ state, action, callbackUrl, passkeys }: { state: LoginState; action: (f: FormData) => void; callbackUrl: string; passkeys: boolean }) {
  const errors = state.status === "error" ? state.fieldErrors : undefined;
  usePasskeyAutofill(passkeys, action, callbackUrl);
  const hydrated = useHydrated();
  return (
    <div className="flex flex-col gap-4">
      <form action={hydrated ? action : "/login/password"} method="post" className="flex flex-col gap-4" noValidate>
        <h1 className="text-xl font-semibold">Sign in</h1>
        <input type="hidden" name="step" value="password" />
        <input type="hidden" name="callbackUrl" value={callbackUrl} />
        <Field
          label="Email"
          name="email"
          type="email"
          // "webauthn": the browser may offer this site's passkeys in the field's autofill.
          autoComplete={passkeys ? "username webauthn" : "username"}
          required
          autoFocus
          maxLength={254}
          errors={errors?.email}
          defaultValue={state.email}
        />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required maxLength={1024} errors={errors?.password} />
        <FormMessage state={errors ? { status: "idle" } : state} />
        <SubmitButton>Sign in</SubmitButton>
      </form>
      {passkeys ? (
        <form action={hydrated ? action : "/login/passkey"} method="post" className="flex flex-col border-t border-slate-200 pt-4 dark:border-slate-700">
          <input type="hidden" name="step" value="passkey" />
          <input type="hidden" name="callbackUrl" value={callbackUrl} />
          <SubmitButton variant="secondary">Sign in with a passkey</SubmitButton>
        </form>
      ) : null}
    </div>
  );
}

/**
 * The browser's passkey autofill on the Email field (WebAuthn conditional
 * mediation): asked once, when the page opens; a passkey picked there signs
 * in as Sign in with a passkey does. A click on that button aborts it (the
 * library allows one prompt at a time).
 */
function usePasskeyAutofill(passkeys: boolean, action: (f: FormData) => void, callbackUrl: string): void {
  useEffect(() => {
    if (!passkeys) return;
    let left = false;
    void (async () => {
      const { browserSupportsWebAuthnAutofill, startAuthentication } = await import("@simplewebauthn/browser");
      if (!(await browserSupportsWebAuthnAutofill())) return;
      const prompt = await passkeyOptionsAction();
      if (!prompt.ok || left) return;
      const answer = await startAuthentication({ optionsJSON: prompt.options, useBrowserAutofill: true });
      if (left) return;
      const formData = new FormData();
      formData.set("step", "passkey");
      formData.set("callbackUrl", callbackUrl);
      formData.set("assertion", JSON.stringify(answer));
      startTransition(() => action(formData));
    })().catch(() => {}); // aborted (the button, or the page left), or no passkey chosen: nothing to say
    return () => {
      left = true;
    };
  }, [passkeys, action, callbackUrl]);
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
      <Suspense fallback={null}>
        <Enrollment
          actions={actions}
          headingLevel={2}
          onFinished={() => {}}
          // A full reload: the flow's state still says "enroll" and must start over from the server's view.
          // eslint-disable-next-line @next/next/no-location-assign-relative-destination -- a reload is the point
          onCancel={() => abandonSignInAction().then(() => window.location.assign("/login"))}
        />
      </Suspense>
    </div>
  );
}

type Method = "security_key" | "totp" | "recovery";

const noSubscription = () => () => {};

/**
 * False in the server's HTML and while it hydrates, true from then on. Until
 * then a form posts itself to its step's route handler, which answers a
 * browser without JavaScript with a redirect (./form-answer.ts); once the
 * page runs, the same form is sent by the action, as JSON.
 */
function useHydrated(): boolean {
  return useSyncExternalStore(
    noSubscription,
    () => true,
    () => false,
  );
}

const stepOf = (formData: FormData) => {
  const step = formData.get("step");
  return step === "code" || step === "passkey" ? step : "password";
};

/** Sign in with a passkey: this browser's challenge from the server, then the browser's prompt. */
async function signWithPasskey(): Promise<{ ok: true; answer: string } | { ok: false; state: LoginState }> {
  let prompt: Awaited<ReturnType<typeof passkeyOptionsAction>>;
  try {
    prompt = await passkeyOptionsAction();
  } catch {
    return { ok: false, state: { status: "error", message: BROWSER_MESSAGES.unreachable, step: "password" } };
  }
  if (!prompt.ok) return { ok: false, state: { status: "error", message: prompt.message, step: "password" } };
  const signed = await askKeyToSign(prompt.options);
  return signed.ok ? signed : { ok: false, state: { status: "error", message: signed.message, step: "password" } };
}

/** Asks the server for this sign-in's prompt, then the browser for the key's answer. */
async function signWithKey(): Promise<{ ok: true; answer: string } | { ok: false; state: LoginState }> {
  let prompt: Awaited<ReturnType<typeof securityKeyOptionsAction>>;
  try {
    prompt = await securityKeyOptionsAction();
  } catch {
    return { ok: false, state: { status: "error", message: BROWSER_MESSAGES.unreachable, step: "code" } };
  }
  if (!prompt.ok) {
    return prompt.error === "challenge_expired"
      ? { ok: false, state: { status: "error", message: BROWSER_MESSAGES.challengeExpired, step: "password" } }
      : { ok: false, state: { status: "error", message: BROWSER_MESSAGES.noSecurityKeys, step: "code" } };
  }
  const signed = await askKeyToSign(prompt.options);
  return signed.ok ? signed : { ok: false, state: { status: "error", message: signed.message, step: "code" } };
}

function CodeStep({
  state,
  action,
  callbackUrl,
  trustDays,
  factors,
  initialMethod,
}: {
  state: LoginState;
  action: (f: FormData) => void;
  callbackUrl: string;
  trustDays: number | null;
  factors: Factors;
  initialMethod: Method | null;
}) {
  const offered = (m: Method) => (m === "security_key" ? factors.keys : m === "totp" ? factors.totp : true);
  const [chosen, setMethod] = useState<Method>(initialMethod ?? (factors.keys ? "security_key" : "totp"));
  const hydrated = useHydrated();
  const method: Method = offered(chosen) ? chosen : factors.totp ? "totp" : "recovery";
  // Every error of this step is about the proof just sent: shown at, and tied to, the field (or the key's button).
  const errors = state.status === "error" ? (state.fieldErrors?.code ?? [state.message]) : undefined;
  const trustable = method !== "recovery" && trustDays !== null;
  // Every other way to finish, one click away.
  const others = (["security_key", "totp", "recovery"] as const).filter((m) => m !== method && offered(m));
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-xl font-semibold">Two-factor authentication</h1>
      <form action={hydrated ? action : "/login/code"} method="post" className="flex flex-col gap-4" noValidate key={method}>
        <input type="hidden" name="step" value="code" />
        <input type="hidden" name="method" value={method} />
        <input type="hidden" name="callbackUrl" value={callbackUrl} />
        {method === "security_key" ? (
          <KeyPrompt errors={errors} />
        ) : method === "totp" ? (
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
        {trustable ? <Checkbox label="Trust this browser" name="trust" aria-describedby="trust-hint" /> : null}
        {trustable ? (
          <p id="trust-hint" className="-mt-3 pl-6 text-xs text-slate-600 dark:text-slate-400">
            Skip this step on this browser for {trustDays} {trustDays === 1 ? "day" : "days"}. Only on a device you alone use.
          </p>
        ) : null}
        {method === "security_key" ? (
          <SubmitButton aria-describedby={errors ? "key-error" : undefined}>Use security key</SubmitButton>
        ) : (
          <SubmitButton>Verify</SubmitButton>
        )}
      </form>
      <div className="flex flex-wrap items-center justify-between gap-x-4 text-sm">
        <div className="flex flex-wrap gap-x-4">
          {others.map((other) =>
            hydrated ? (
              <Button key={other} variant="ghost" className="px-0" onClick={() => setMethod(other)}>
                {SWITCH_LABELS[other](method)}
              </Button>
            ) : (
              // Without JavaScript the switch is a link: the page reads ?method= (./page.tsx).
              <a
                key={other}
                href={`/login?${new URLSearchParams({ method: other, ...(callbackUrl !== "/" ? { callbackUrl } : {}) })}`}
                className={`${buttonClass("ghost")} px-0`}
              >
                {SWITCH_LABELS[other](method)}
              </a>
            ),
          )}
        </div>
        <form action={cancelSignInAction}>
          <SubmitButton variant="subtle" className="px-0">
            Cancel
          </SubmitButton>
        </form>
      </div>
    </div>
  );
}

/** The switch to each method; from a recovery code back to the app it is the manual's "Use an authentication code". */
const SWITCH_LABELS: Record<Method, (from: Method) => string> = {
  security_key: () => "Use security key",
  totp: (from) => (from === "security_key" ? "Authentication code" : "Use an authentication code"),
  recovery: () => "Use a recovery code",
};

function KeyPrompt({ errors }: { errors: string[] | undefined }) {
  return (
    <div className="flex flex-col gap-2 text-sm">
      <p className="text-slate-700 dark:text-slate-300">
        Use your security key or passkey: touch the key, or follow your browser&apos;s prompt.
      </p>
      {errors ? (
        <p id="key-error" role="alert" className="text-red-700 dark:text-red-400">
          {errors[0]}
        </p>
      ) : null}
    </div>
  );
}
