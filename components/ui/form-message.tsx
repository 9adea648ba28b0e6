import type { FormState } from "@/lib/validation/messages";
import { Notice } from "./notice";

/** The form-level outcome, announced to screen readers. */
export function FormMessage({ state }: { state: FormState }) {
  return (
    // Empty, it is visually hidden but not display:none: a live region must exist before its message to be announced.
    <div aria-live="polite" data-testid="form-message" className="min-h-0 empty:sr-only">
      {state.status === "error" ? (
        <Notice tone="danger">{state.message}</Notice>
      ) : state.status === "success" && state.message ? (
        <Notice tone="success">{state.message}</Notice>
      ) : null}
    </div>
  );
}
