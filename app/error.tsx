"use client";

/** Unexpected failures land here; expected ones are messages in their form. */
export default function ErrorPage({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="flex min-h-[60vh] flex-col items-center justify-center gap-3 px-4 text-center">
      <h1 className="text-2xl font-semibold">Something went wrong</h1>
      <p className="text-sm text-slate-600 dark:text-slate-400">The request could not be completed. Try again in a moment.</p>
      <button type="button" onClick={reset} className="text-sm font-medium text-brand-700 hover:underline dark:text-brand-100">
        Try again
      </button>
    </main>
  );
}
