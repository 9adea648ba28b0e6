"use client";
import { useActionState, useEffect, useState } from "react";
import { ActionButton, Button } from "@/components/ui/button";
import { Notice } from "@/components/ui/notice";
import { CodeForm } from "@/components/two-factor/code-form";
import { RecoveryCodesPanel } from "@/components/two-factor/recovery-codes-panel";
import { useFocusIfLost } from "@/components/ui/focus";
import type { CodesState, EnrollmentStart } from "@/lib/validation/enrollment-states";

/** The server side of enrollment: from My Settings (signed in) or at sign-in (forced enrollment). */
export type EnrollmentActions = {
  start: () => Promise<EnrollmentStart>;
  confirm: (previous: CodesState, formData: FormData) => Promise<CodesState>;
  finish: () => Promise<void>;
};

/** The manual's four steps: scan, enter a code, download recovery codes, done. */
export function Enrollment({
  actions,
  onFinished,
  onCancel,
  headingLevel = 3,
}: {
  actions: EnrollmentActions;
  onFinished: () => void;
  onCancel: () => void;
  /** 3 under a dialog's title, 2 under a page's h1. */
  headingLevel?: 2 | 3;
}) {
  const [start, setStart] = useState<EnrollmentStart | null>(null);
  const [confirmState, confirm] = useActionState<CodesState, FormData>(actions.confirm, { status: "idle" });
  const [step, setStep] = useState<"scan" | "codes" | "done">("scan");
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    actions.start().then(setStart, () => setStart({ status: "error", message: "Could not start. Check your connection and try again." }));
  }, [actions, attempt]);
  // A confirmed code answers with the recovery codes: that answer moves the steps on.
  const shown = step === "scan" && "recoveryCodes" in confirmState ? "codes" : step;

  if (!start) return <p role="status">Preparing…</p>;
  if (start.status === "error") {
    return (
      <div className="flex flex-col gap-3">
        <Notice tone="danger" live>
          {start.message}
        </Notice>
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onCancel}>
            Cancel
          </Button>
          <Button
            onClick={() => {
              setStart(null);
              setAttempt(attempt + 1);
            }}
          >
            Try again
          </Button>
        </div>
      </div>
    );
  }
  if (shown === "codes" && "recoveryCodes" in confirmState) {
    return (
      <Section key={3} number={3} title="Save your recovery codes" level={headingLevel}>
        <RecoveryCodesPanel codes={confirmState.recoveryCodes} onContinue={() => setStep("done")} />
      </Section>
    );
  }
  if (shown === "done") {
    return (
      <Section key={4} number={4} title="Two-factor authentication is enabled" level={headingLevel}>
        <p className="text-sm">From now on you will be asked for a code from your authenticator app when you sign in.</p>
        <div className="flex justify-end">
          <ActionButton onAction={() => actions.finish().then(onFinished)}>Done</ActionButton>
        </div>
      </Section>
    );
  }
  return (
    <div className="flex flex-col gap-5">
      <Section number={1} title="Scan the QR code with your authenticator app" level={headingLevel}>
        <div className="flex flex-col items-center gap-3 sm:flex-row sm:items-start">
          {/* eslint-disable-next-line @next/next/no-img-element -- an inline SVG data URL, nothing to optimise */}
          <img
            src={`data:image/svg+xml;base64,${btoa(start.qrSvg)}`}
            alt="QR code for your authenticator app"
            width={176}
            height={176}
            className="rounded-md bg-white p-1"
          />
          <SetupKey value={start.setupKey} />
        </div>
      </Section>
      <Section number={2} title="Enter the code your app shows" level={headingLevel}>
        <CodeForm action={confirm} state={"recoveryCodes" in confirmState ? { status: "idle" } : confirmState} submitLabel="Verify">
          <Button variant="secondary" onClick={onCancel}>
            Cancel
          </Button>
        </CodeForm>
      </Section>
    </div>
  );
}

function SetupKey({ value }: { value: string }) {
  const [copied, setCopied] = useState(false);
  const grouped = value.match(/.{1,4}/g)!.join(" ");
  return (
    <div className="flex flex-col gap-1 text-sm">
      <p>Can’t scan it? Enter this key in the app instead:</p>
      <span id="setup-key-label" className="font-medium">
        Setup key
      </span>
      <code aria-labelledby="setup-key-label" data-testid="setup-key" className="rounded bg-slate-100 px-2 py-1 font-mono break-all dark:bg-slate-800">
        {grouped}
      </code>
      <Button
        variant="ghost"
        className="self-start px-0"
        onClick={() => navigator.clipboard?.writeText(value).then(() => setCopied(true))}
      >
        {copied ? "Copied" : "Copy setup key"}
      </Button>
      <span role="status" className="sr-only">
        {copied ? "Setup key copied to the clipboard." : ""}
      </span>
    </div>
  );
}

/** One step; its heading takes focus when the previous step's controls (and focus with them) are gone. */
function Section({ number, title, level, children }: { number: number; title: string; level: 2 | 3; children: React.ReactNode }) {
  const Heading = level === 2 ? "h2" : "h3";
  const heading = useFocusIfLost<HTMLHeadingElement>();
  return (
    <section className="flex flex-col gap-3">
      <Heading ref={heading} tabIndex={-1} className="text-sm font-semibold focus:outline-none">
        <span className="mr-2 inline-flex size-6 items-center justify-center rounded-full bg-brand-100 text-brand-700">{number}</span>
        {title}
      </Heading>
      {children}
    </section>
  );
}
