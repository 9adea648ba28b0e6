"use client";
import { useActionState, useEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { Notice } from "@/components/ui/notice";
import { focusWasLost } from "@/components/ui/focus";
import { AccountSecurity, ChangePasswordForm } from "@/components/two-factor/account-security";
import { CodeForm } from "@/components/two-factor/code-form";
import { Enrollment } from "@/components/two-factor/enrollment";
import { RecoveryCodesPanel } from "@/components/two-factor/recovery-codes-panel";
import { SecurityActivity } from "@/components/two-factor/security-activity";
import { TrustedBrowsers } from "@/components/two-factor/trusted-browsers";
import { ViewHeading } from "@/components/two-factor/view-heading";
import {
  confirmEnrollmentAction,
  disableTwoFactorAction,
  refreshAfterEnrollmentAction,
  regenerateRecoveryCodesAction,
  startEnrollmentAction,
} from "@/app/(app)/my-settings/actions";
import type { CodesState } from "@/lib/validation/enrollment-states";
import type { FormState } from "@/lib/validation/messages";

export type MySettingsData = {
  name: string;
  email: string;
  instanceEnabled: boolean;
  enabled: boolean;
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
  const open = (next: View) => {
    left.current = next;
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
  if (view === "enroll") return <Enrollment actions={ENROLLMENT_ACTIONS} onFinished={() => back("All set: from now on, sign-in asks for a code from your app.")} onCancel={() => back()} />;
  if (view === "disable") return <DisableForm onDone={back} />;
  if (view === "recovery") return <RecoveryCodes left={data.recoveryCodesLeft} onDone={back} />;
  if (view === "password") return <ChangePasswordForm onDone={back} />;
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
      {data.enabled ? <TrustedBrowsers /> : null}
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
      <p>Two-factor authentication is enabled.</p>
      <div className="flex gap-2">
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

function RecoveryCodes({ left, onDone }: { left: number; onDone: (message?: string) => void }) {
  const [asking, setAsking] = useState(false);
  const [state, action] = useActionState<CodesState, FormData>(regenerateRecoveryCodesAction, { status: "idle" });
  if ("recoveryCodes" in state) {
    return (
      <div className="flex flex-col gap-3">
        <ViewHeading>Your new recovery codes</ViewHeading>
        <RecoveryCodesPanel codes={state.recoveryCodes} onContinue={() => onDone("New recovery codes saved.")} />
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
      {asking ? (
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
