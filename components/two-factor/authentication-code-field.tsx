"use client";
import { Field } from "@/components/ui/field";

/**
 * The one "Authentication code" input: numeric keyboard on phones, one-time-code
 * autofill, and room for "123 456" as pasted from apps that group digits.
 */
export function AuthenticationCodeField({ errors, hint }: { errors?: string[]; hint?: string }) {
  return (
    <Field
      label="Authentication code"
      name="code"
      inputMode="numeric"
      autoComplete="one-time-code"
      pattern="[0-9 ]*"
      maxLength={7}
      autoFocus
      required
      errors={errors}
      hint={hint}
      onPaste={pasteCode}
    />
  );
}

/**
 * A pasted code replaces the field's text, its spaces (and a line break from a
 * copied line) dropped: maxLength would otherwise cut " 123 456" or "123 456\n"
 * short. Other pastes keep the browser's behaviour.
 */
function pasteCode(event: React.ClipboardEvent<HTMLInputElement>) {
  const digits = event.clipboardData.getData("text").replace(/[\s\u00a0]/g, "");
  if (!/^[0-9]{6}$/.test(digits)) return;
  event.preventDefault();
  event.currentTarget.value = digits;
}
