import type { FormState } from "@/lib/validation/messages";

/** The form-level outcome, announced to screen readers. */
export function FormMessage({ state }: { state: FormState }) {
  return (
    // Empty, it is visually hidden but not display:none: a live region must exist before its message to be announced.
    <div aria-live="polite" data-testid="form-message" className="min-h-0 empty:sr-only">
      {state.status === "error" ? (
        <p className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">{state.message}</p>
      ) : state.status === "success" && state.message ? (
        <p className="rounded-md bg-green-50 px-3 py-2 text-sm text-green-800 dark:bg-green-950 dark:text-green-200">{state.message}</p>
      ) : null}
    </div>
  );
}
