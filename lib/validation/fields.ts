import { z } from "zod";
import { MESSAGES, passwordLengthMessage } from "./messages";
import { PASSWORD_MAX_LENGTH, passwordLengthProblem, passwordMinLength } from "./password-policy";

// Form fields arrive as strings, Files or not at all; every schema starts from a bounded string
// so a wrong type, a missing field or a 10 KB value gets a message instead of an exception.
const text = (message: string, max: number) => z.string({ error: message }).max(max, { error: message });

export const emailField = text(MESSAGES.emailFormat, 254)
  .trim()
  .toLowerCase()
  .pipe(z.email({ error: MESSAGES.emailFormat }));

/** Sign-in password: only bounded, not judged (the policy applies when it is set). */
export const passwordField = text(MESSAGES.passwordRequired, 1024).min(1, { error: MESSAGES.passwordRequired });

/**
 * A new password's length: PASSWORD_MIN_LENGTH (15 by default, NIST SP
 * 800-63B-4 §3.1.1.2) to 128 code points; no composition rules. Read at each
 * parse, so the rule is the running instance's. The blocklist and the
 * strength are judged by the form's schema (lib/validation/forms.ts), which
 * knows whose password it is.
 */
export const newPasswordField = z
  .string({ error: () => lengthMessage() })
  .refine((password) => passwordLengthProblem(password, passwordMinLength()) === null, { error: () => lengthMessage() });

const lengthMessage = () => passwordLengthMessage(passwordMinLength(), PASSWORD_MAX_LENGTH);

/**
 * Text a person can read and PostgreSQL can store: no C0 control characters
 * and no DEL. PostgreSQL refuses NUL in text and jsonb (an error, hence a 500,
 * when a name with NUL reached an INSERT), and the rest only garble the
 * Users table, the audit log, its CSV and the CLI's terminal output.
 */
export const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]*$/;

export const nameField = text(MESSAGES.nameRequired, 100)
  .trim()
  .min(1, { error: MESSAGES.nameRequired })
  .regex(NO_CONTROL_CHARACTERS, { error: MESSAGES.nameInvalid });

/**
 * A TOTP code as typed: ASCII digits only (unicode digits are refused, not
 * folded), spaces allowed between groups ("123 456").
 */
export const totpCodeField = text(MESSAGES.codeFormat, 32)
  .transform((value) => value.replace(/[\s\u00a0]/g, ""))
  .pipe(z.string().regex(/^[0-9]{6}$/, { error: MESSAGES.codeFormat }));

/** A recovery code as typed; normalised server-side (case, spaces, dashes). */
export const recoveryCodeField = text(MESSAGES.recoveryCodeFormat, 64).min(1, { error: MESSAGES.recoveryCodeFormat });

/** HTML checkbox: "on" when ticked, absent when not. */
export const checkboxField = z
  .union([z.literal("on"), z.literal("true")])
  // .optional(), not a z.undefined() member: zod 4 only lets an object key be absent when its schema is optional.
  .optional()
  .transform((value) => value !== undefined);

/** A security key's name, as its owner sees it in the list: "YubiKey 5C", "Phone". */
export const securityKeyNameField = text(MESSAGES.securityKeyName, 64)
  .trim()
  .min(1, { error: MESSAGES.securityKeyName })
  .regex(NO_CONTROL_CHARACTERS, { error: MESSAGES.securityKeyName });
