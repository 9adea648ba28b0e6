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
    />
  );
}
