"use client";
import { useEffect, useRef } from "react";
import { useFormStatus } from "react-dom";
import { focusWasLost } from "./focus";
import { buttonClass, type Variant } from "./button-class";

export { buttonClass };

export function Button({
  variant = "primary",
  className = "",
  ...props
}: React.ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }) {
  return <button type="button" className={`${buttonClass(variant)} ${className}`} {...props} />;
}

/**
 * A submit button that shows the pending state of its form. Disabled while
 * pending, it loses the focus it had (Enter or Space on it): it takes it back
 * when the answer leaves it on the page (an error), so keyboard users go on from here.
 */
export function SubmitButton({
  children,
  variant = "primary",
  className = "",
  onClick,
  ...props
}: React.ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }) {
  const { pending } = useFormStatus();
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
      {children}
      {pending ? <span className="sr-only"> (working…)</span> : null}
    </button>
  );
}
