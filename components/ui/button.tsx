"use client";
import { useFormStatus } from "react-dom";
import { buttonClass, type Variant } from "./button-class";

export { buttonClass };

export function Button({
  variant = "primary",
  className = "",
  ...props
}: React.ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }) {
  return <button type="button" className={`${buttonClass(variant)} ${className}`} {...props} />;
}

/** A submit button that shows the pending state of its form. */
export function SubmitButton({
  children,
  variant = "primary",
  className = "",
  ...props
}: React.ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }) {
  const { pending } = useFormStatus();
  return (
    <button
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
