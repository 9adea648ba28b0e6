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
    <PendingButton
      {...props}
      ref={ref}
      type="submit"
      variant={variant}
      className={className}
      pending={pending}
      onClick={(event) => {
        hadFocus.current = event.currentTarget === document.activeElement;
        onClick?.(event);
      }}
    >
      {children}
    </PendingButton>
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
    <PendingButton
      {...props}
      type="button"
      variant={variant}
      className={className}
      pending={pending}
      onClick={async () => {
        setPending(true);
        try {
          await onAction();
        } finally {
          setPending(false);
        }
      }}
    >
      {children}
    </PendingButton>
  );
}

/**
 * What SubmitButton and ActionButton share: disabled while pending (after the caller's props, so a
 * `disabled` passed in cannot switch the pending state off), a spinner beside the unchanged label.
 */
function PendingButton({
  pending,
  variant,
  className,
  children,
  ref,
  ...props
}: ButtonProps & { pending: boolean; ref?: React.Ref<HTMLButtonElement> }) {
  const disabled = pending || props.disabled;
  return (
    <button {...props} ref={ref} className={`${buttonClass(variant)} ${className}`} disabled={disabled} aria-disabled={disabled}>
      {pending ? <Spinner /> : null}
      {children}
      {pending ? <span className="sr-only"> (working…)</span> : null}
    </button>
  );
}
