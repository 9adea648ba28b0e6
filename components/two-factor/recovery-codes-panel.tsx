"use client";
import { useState } from "react";
import { Button } from "@/components/ui/button";

/**
 * Shows a fresh set of recovery codes once. Continue stays disabled until
 * the codes were downloaded: they will never be shown again.
 */
export function RecoveryCodesPanel({ codes, onContinue }: { codes: string[]; onContinue: () => void }) {
  const [downloaded, setDownloaded] = useState(false);
  function download() {
    const blob = new Blob([codes.join("\n") + "\n"], { type: "text/plain" });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = "recovery-codes.txt";
    link.click();
    URL.revokeObjectURL(url);
    setDownloaded(true);
  }
  return (
    // A container query, not the viewport: a code is 29 characters, and two columns fit only where the dialog is that wide.
    <div className="@container flex flex-col gap-4">
      <p className="text-sm">
        Save these recovery codes somewhere safe. Each one signs you in once if you lose your authenticator. They are shown only
        now.
      </p>
      <ul
        aria-label="Recovery codes"
        className="grid grid-cols-1 gap-2 rounded-md bg-slate-100 p-4 font-mono text-sm @xl:grid-cols-2 dark:bg-slate-800"
      >
        {codes.map((code) => (
          <li key={code}>{code}</li>
        ))}
      </ul>
      <div className="flex flex-wrap justify-end gap-2">
        <Button variant="secondary" onClick={download}>
          Download
        </Button>
        <Button onClick={onContinue} disabled={!downloaded} aria-describedby={downloaded ? undefined : "continue-hint"}>
          Continue
        </Button>
      </div>
      {downloaded ? null : (
        <p id="continue-hint" className="text-right text-xs text-slate-600 dark:text-slate-400">
          Download the codes to continue.
        </p>
      )}
    </div>
  );
}
