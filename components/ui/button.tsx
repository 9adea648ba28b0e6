"use client";
import { createContext, useContext, useEffect, useRef, useState } from "react";
import { useFormStatus } from "react-dom";
import { focusWasLost } from "./focus";
import { buttonClass, type Variant } from "./button-class";
import { Spinner } from "./spinner";

export { buttonClass };

type ButtonProps = React.ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant };

/**
 * Pending state for forms whose submission is not a form action (a search that navigates
 * on the client): their SubmitButton reads it here, since useFormStatus only sees actions.
 */
export const FormPendingContext = createContext(false);

export function Button({ variant = "primary", className = "", ...props }: ButtonProps) {
  return <button type="button" className={`${buttonClass(variant)} ${className}`} {...props} />;
}

/**
 * A submit button that shows the pending state of its form: a spinner, disabled.
 * Disabled, it loses the focus it had (Enter or Space on it): it takes it back
 * when the answer leaves it on the page (an error), so keyboard users go on from here.
 */
export function SubmitButton({ children, variant = "primary", className = "", onClick, ...props }: ButtonProps) {
  const formPending = useFormStatus().pending;
  const pending = useContext(FormPendingContext) || formPending;
  const ref = useRef<HTMLButtonElement>(null);
  const hadFocus = useRef(false);
  useEffect(() => {
    if (pending || !hadFocus.current) return;
    hadFocus.current = false;
    if (focusWasLost()) ref.current?.focus();
  }, [pending]);
  return (
    <button
      ref={ref}
      onClick={(event) => {
        hadFocus.current = event.currentTarget === document.activeElement;
        onClick?.(event);
      }}
      type="submit"
      className={`${buttonClass(variant)} ${className}`}
      disabled={pending || props.disabled}
      aria-disabled={pending || props.disabled}
      {...props}
    >
      <Pending pending={pending}>{children}</Pending>
    </button>
  );
}

/**
 * A button whose click runs something that takes a moment (a server action outside a form):
 * pending while the promise runs, like a SubmitButton.
 */
export function ActionButton({
  onAction,
  children,
  variant = "primary",
  className = "",
  ...props
}: Omit<ButtonProps, "onClick"> & { onAction: () => Promise<unknown> }) {
  const [pending, setPending] = useState(false);
  return (
    <button
      type="button"
      onClick={async () => {
        setPending(true);
        try {
          await onAction();
        } finally {
          setPending(false);
        }
      }}
      className={`${buttonClass(variant)} ${className}`}
      disabled={pending || props.disabled}
      aria-disabled={pending || props.disabled}
      {...props}
    >
      <Pending pending={pending}>{children}</Pending>
    </button>
  );
}

/** The label stays (the button keeps its size and name); a spinner joins it while pending. */
function Pending({ pending, children }: { pending: boolean; children: React.ReactNode }) {
  return (
    <>
      {pending ? <Spinner /> : null}
      {children}
      {pending ? <span className="sr-only"> (working…)</span> : null}
    </>
  );
}
