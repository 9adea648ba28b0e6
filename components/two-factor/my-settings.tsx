"use client";
import { useActionState, useCallback, useEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { Notice } from "@/components/ui/notice";
import { focusWasLost } from "@/components/ui/focus";
import { AccountSecurity, ChangePasswordForm } from "@/components/two-factor/account-security";
import { CodeForm } from "@/components/two-factor/code-form";
import { ConfirmOwnChange } from "@/components/two-factor/confirm-own-change";
import { Enrollment } from "@/components/two-factor/enrollment";
import { RecoveryCodesPanel } from "@/components/two-factor/recovery-codes-panel";
import { SecurityActivity } from "@/components/two-factor/security-activity";
import { SecurityKeys } from "@/components/two-factor/security-keys";
import { Sessions } from "@/components/two-factor/sessions";
import { TrustedBrowsers } from "@/components/two-factor/trusted-browsers";
import { ViewHeading } from "@/components/two-factor/view-heading";
import {
  confirmEnrollmentAction,
  disableTwoFactorAction,
  refreshAfterEnrollmentAction,
  regenerateRecoveryCodesAction,
  startEnrollmentAction,
} from "@/app/(app)/my-settings/actions";
import { checkOwnConfirmationAction, disableWithKeyAction, regenerateCodesWithKeyAction } from "@/app/(app)/my-settings/security-key-actions";
import type { ConfirmState } from "@/app/(app)/admin/step-up-actions";
import type { StepUpMethod } from "@/lib/admin/step-up";
import type { CodesState } from "@/lib/validation/enrollment-states";
import type { FormState } from "@/lib/validation/messages";

export type MySettingsData = {
  name: string;
  email: string;
  /** PASSWORD_MIN_LENGTH of this instance, for Change password. */
  passwordMinLength: number;
  instanceEnabled: boolean;
  /** At least one second factor; `totp`: one of them is the authenticator app. */
  enabled: boolean;
  totp: boolean;
  passkeySignIn: boolean;
  recoveryCodesLeft: number;
};

type View = "overview" | "enroll" | "disable" | "recovery" | "password";

const ENROLLMENT_ACTIONS = { start: startEnrollmentAction, confirm: confirmEnrollmentAction, finish: refreshAfterEnrollmentAction };

/** The body of the My Settings dialog: profile, then the two-factor section at the bottom. */
export function MySettings({ data }: { data: MySettingsData }) {
  const [view, setView] = useState<View>("overview");
  const [notice, setNotice] = useState<string | null>(null);
  const overview = useRef<HTMLDivElement>(null);
  const left = useRef<View | null>(null);
  // Whether the user had security keys only when the view opened: that decides how the view confirms (a key), and
  // the view's own answer (2FA on, or off) must not switch it to another form halfway.
  const [keysOnlyWhenOpened, setKeysOnlyWhenOpened] = useState(data.enabled && !data.totp);
  const open = (next: View) => {
    left.current = next;
    setKeysOnlyWhenOpened(data.enabled && !data.totp);
    setView(next);
  };
  const back = (message?: string) => {
    setNotice(message ?? null);
    setView("overview");
  };
  // Back from a view, focus goes to its outcome, or else to the button that opened it (gone with the overview).
  useEffect(() => {
    if (view !== "overview" || !left.current || !focusWasLost()) return;
    overview.current?.querySelector<HTMLElement>(notice ? "[data-notice]" : `[data-opens="${left.current}"]`)?.focus();
  }, [view, notice]);
  if (view === "enroll") {
    const enrollment = <Enrollment actions={ENROLLMENT_ACTIONS} onFinished={() => back("All set: from now on, sign-in asks for a code from your app.")} onCancel={() => back()} />;
    // Beside security keys the app is a factor added to an account that has one: a key confirms it first.
    return keysOnlyWhenOpened ? <AfterOwnConfirmation onCancel={() => back()}>{enrollment}</AfterOwnConfirmation> : enrollment;
  }
  if (view === "disable") return keysOnlyWhenOpened ? <DisableWithKey onDone={back} /> : <DisableForm onDone={back} />;
  if (view === "recovery") return <RecoveryCodes left={data.recoveryCodesLeft} withKey={keysOnlyWhenOpened} onDone={back} />;
  if (view === "password") return <ChangePasswordForm onDone={back} user={data} />;
  return (
    <div ref={overview} className="flex flex-col gap-5">
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="text-slate-600 dark:text-slate-400">Name</dt>
        <dd>{data.name}</dd>
        <dt className="text-slate-600 dark:text-slate-400">Email</dt>
        <dd className="break-all">{data.email}</dd>
      </dl>
      {notice ? (
        <Notice tone="success" live data-notice tabIndex={-1}>
          {notice}
        </Notice>
      ) : null}
      <TwoFactorSection data={data} onView={open} />
      {data.enabled && data.recoveryCodesLeft <= 2 ? (
        <Notice tone="warning">
          Only {data.recoveryCodesLeft} recovery {data.recoveryCodesLeft === 1 ? "code" : "codes"} left. Generate new codes under
          Recovery codes.
        </Notice>
      ) : null}
      {data.instanceEnabled ? <SecurityKeys firstFactor={!data.enabled} passkeySignIn={data.passkeySignIn} onTwoFactorOn={refreshAfterEnrollmentAction} /> : null}
      {data.enabled ? <TrustedBrowsers /> : null}
      <Sessions />
      <AccountSecurity onChangePassword={() => open("password")} />
      <SecurityActivity />
    </div>
  );
}

function TwoFactorSection({ data, onView }: { data: MySettingsData; onView: (view: View) => void }) {
  if (!data.instanceEnabled) {
    return (
      <Notice className="px-4 py-3">Two-factor authentication is turned off for this instance by an administrator.</Notice>
    );
  }
  if (!data.enabled) {
    return (
      <Notice tone="warning" className="flex flex-wrap items-center justify-between gap-3 px-4 py-3">
        <p>Protect your account: enable two-factor authentication.</p>
        <Button data-opens="enroll" onClick={() => onView("enroll")}>
          Enable
        </Button>
      </Notice>
    );
  }
  return (
    <Notice tone="success" className="flex flex-wrap items-center justify-between gap-3 px-4 py-3">
      <p>{data.totp ? "Two-factor authentication is enabled." : "Two-factor authentication is enabled with a security key."}</p>
      <div className="flex flex-wrap gap-2">
        {data.totp ? null : (
          <Button variant="secondary" data-opens="enroll" onClick={() => onView("enroll")}>
            Add authenticator app
          </Button>
        )}
        <Button variant="secondary" data-opens="recovery" onClick={() => onView("recovery")}>
          Recovery codes
        </Button>
        <Button variant="danger" data-opens="disable" onClick={() => onView("disable")}>
          Disable
        </Button>
      </div>
    </Notice>
  );
}

function DisableForm({ onDone }: { onDone: (message?: string) => void }) {
  const [state, action] = useActionState<FormState, FormData>(disableTwoFactorAction, { status: "idle" });
  useEffect(() => {
    if (state.status === "success") onDone(state.message);
  }, [state, onDone]);
  return (
    <div className="flex flex-col gap-3">
      <h3 className="font-semibold">Disable two-factor authentication</h3>
      <p className="text-sm">Enter a code from your authenticator app to confirm. Your recovery codes will stop working.</p>
      <CodeForm action={action} state={state} submitLabel="Disable" danger>
        <Button variant="secondary" onClick={() => onDone()}>
          Cancel
        </Button>
      </CodeForm>
    </div>
  );
}

function RecoveryCodes({ left, withKey, onDone }: { left: number; withKey: boolean; onDone: (message?: string) => void }) {
  const [asking, setAsking] = useState(false);
  const [state, action] = useActionState<CodesState, FormData>(regenerateRecoveryCodesAction, { status: "idle" });
  const [keyState, setKeyState] = useState<CodesState>({ status: "idle" });
  const generated = "recoveryCodes" in keyState ? keyState : state;
  if ("recoveryCodes" in generated) {
    return (
      <div className="flex flex-col gap-3">
        <ViewHeading>Your new recovery codes</ViewHeading>
        <RecoveryCodesPanel codes={generated.recoveryCodes} onContinue={() => onDone("New recovery codes saved.")} />
      </div>
    );
  }
  return (
    <div className="flex flex-col gap-3">
      <ViewHeading>Recovery codes</ViewHeading>
      <p className="text-sm" data-testid="recovery-codes-left">
        {left === 1 ? "1 recovery code left." : `${left} recovery codes left.`}
        {left <= 2 ? " Generate new codes soon." : ""}
      </p>
      {asking && withKey ? (
        <>
          <p className="text-sm">Your current recovery codes will stop working.</p>
          <WithOwnConfirmation run={regenerateCodesWithKeyAction} onAnswer={setKeyState} onCancel={() => onDone()} />
        </>
      ) : asking ? (
        <>
          <p className="text-sm">Enter a code from your authenticator app. Your current recovery codes will stop working.</p>
          <CodeForm action={action} state={state} submitLabel="Generate new codes">
            <Button variant="secondary" onClick={() => onDone()}>
              Cancel
            </Button>
          </CodeForm>
        </>
      ) : (
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => onDone()}>
            Back
          </Button>
          <Button onClick={() => setAsking(true)}>Generate new codes</Button>
        </div>
      )}
    </div>
  );
}

/** Disable for a user with security keys only: a key confirms it (asked for after the click, unless this session just confirmed). */
function DisableWithKey({ onDone }: { onDone: (message?: string) => void }) {
  const [started, setStarted] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  return (
    <div className="flex flex-col gap-3">
      <h3 className="font-semibold">Disable two-factor authentication</h3>
      <p className="text-sm">Your security keys and recovery codes will be removed.</p>
      {failure ? (
        <Notice tone="danger" live>
          {failure}
        </Notice>
      ) : null}
      {started ? (
        <WithOwnConfirmation
          run={disableWithKeyAction}
          onAnswer={(answer) => (answer.status === "success" ? onDone(answer.message) : answer.status === "error" ? setFailure(answer.message) : undefined)}
          onCancel={() => onDone()}
        />
      ) : (
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => onDone()}>
            Cancel
          </Button>
          <Button variant="danger" onClick={() => setStarted(true)}>
            Disable
          </Button>
        </div>
      )}
    </div>
  );
}

/**
 * Runs a change that this session must have confirmed, once, when shown:
 * straight away when it has (within 5 minutes), else after the confirmation
 * it asks for.
 */
function WithOwnConfirmation<T extends { status: string }>({
  run,
  onAnswer,
  onCancel,
}: {
  run: () => Promise<T | ConfirmState>;
  onAnswer: (answer: T) => void;
  onCancel: () => void;
}) {
  const [method, setMethod] = useState<StepUpMethod | null>(null);
  // The first props are what runs: a parent's re-render must not send the change again.
  const first = useRef({ run, onAnswer });
  const go = useCallback(async () => {
    const answer = await first.current.run();
    if (answer.status === "confirm") return setMethod((answer as ConfirmState).method);
    setMethod(null);
    first.current.onAnswer(answer as T);
  }, []);
  const ran = useRef(false);
  useEffect(() => {
    if (ran.current) return; // once, even where effects run twice (React's development mode)
    ran.current = true;
    void go();
  }, [go]);
  if (!method) return <p role="status">Checking…</p>;
  return <ConfirmOwnChange method={method} onConfirmed={go} onCancel={onCancel} />;
}

/** Shows `children` once this session has confirmed (straight away when it just did). */
function AfterOwnConfirmation({ children, onCancel }: { children: React.ReactNode; onCancel: () => void }) {
  const [confirmed, setConfirmed] = useState(false);
  if (confirmed) return <>{children}</>;
  return (
    <div className="flex flex-col gap-3">
      <h3 className="font-semibold">Add authenticator app</h3>
      <WithOwnConfirmation run={checkOwnConfirmationAction} onAnswer={(answer) => setConfirmed(answer.status === "success")} onCancel={onCancel} />
    </div>
  );
}
