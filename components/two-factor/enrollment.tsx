"use client";
import { useActionState, useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { CodeForm } from "@/components/two-factor/code-form";
import { RecoveryCodesPanel } from "@/components/two-factor/recovery-codes-panel";
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
}: {
  actions: EnrollmentActions;
  onFinished: () => void;
  onCancel: () => void;
}) {
  const [start, setStart] = useState<EnrollmentStart | null>(null);
  const [confirmState, confirm] = useActionState<CodesState, FormData>(actions.confirm, { status: "idle" });
  const [step, setStep] = useState<"scan" | "codes" | "done">("scan");
  useEffect(() => {
    actions.start().then(setStart, () => setStart({ status: "error", message: "Could not start. Try again." }));
  }, [actions]);
  useEffect(() => {
    if ("recoveryCodes" in confirmState) setStep("codes");
  }, [confirmState]);

  if (!start) return <p role="status">Preparing…</p>;
  if (start.status === "error") return <p className="text-sm text-red-700 dark:text-red-400">{start.message}</p>;
  if (step === "codes" && "recoveryCodes" in confirmState) {
    return (
      <Section number={3} title="Save your recovery codes">
        <RecoveryCodesPanel codes={confirmState.recoveryCodes} onContinue={() => setStep("done")} />
      </Section>
    );
  }
  if (step === "done") {
    return (
      <Section number={4} title="Two-factor authentication is enabled">
        <p className="text-sm">From now on you will be asked for a code from your authenticator app when you sign in.</p>
        <div className="flex justify-end">
          <Button onClick={() => actions.finish().then(onFinished)}>Done</Button>
        </div>
      </Section>
    );
  }
  return (
    <div className="flex flex-col gap-5">
      <Section number={1} title="Scan the QR code with your authenticator app">
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
      <Section number={2} title="Enter the code your app shows">
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
    </div>
  );
}

function Section({ number, title, children }: { number: number; title: string; children: React.ReactNode }) {
  return (
    <section className="flex flex-col gap-3">
      <h3 className="text-sm font-semibold">
        <span className="mr-2 inline-flex size-6 items-center justify-center rounded-full bg-brand-100 text-brand-700">{number}</span>
        {title}
      </h3>
      {children}
    </section>
  );
}
