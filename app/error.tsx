"use client";
import { buttonClass } from "@/components/ui/button-class";
import { Logo } from "@/components/ui/logo";

/** Unexpected failures land here; expected ones are messages in their form. */
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="flex min-h-[70vh] flex-col items-center justify-center gap-6 px-4 py-12 text-center">
      <Logo className="text-lg" />
      <div className="flex flex-col items-center gap-2">
        <h1 className="text-2xl font-semibold">Something went wrong</h1>
        <p className="max-w-sm text-sm text-slate-600 dark:text-slate-400">
          The request could not be completed. Try again in a moment.
        </p>
        {/* The digest matches the server's log line, so an administrator can find what happened. */}
        {error.digest ? <p className="font-mono text-xs text-slate-600 dark:text-slate-400">Reference: {error.digest}</p> : null}
      </div>
      <div className="flex gap-2">
        <button type="button" onClick={reset} className={buttonClass("primary")}>
          Try again
        </button>
        {/* A full load, not <Link>: whatever broke in this page's client state starts over. */}
        {/* eslint-disable-next-line @next/next/no-html-link-for-pages */}
        <a href="/" className={buttonClass("secondary")}>
          Back to the start
        </a>
      </div>
    </main>
  );
}
