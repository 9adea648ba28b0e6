import { z } from "zod";
import { checkboxField, emailField, nameField, newPasswordField, passwordField, recoveryCodeField, securityKeyNameField, totpCodeField } from "./fields";
import { newPasswordProblem, passwordLengthProblem, passwordMinLength, type PasswordContext } from "./password-policy";

/**
 * The blocklist and strength check of a new password, as an async refinement
 * (the dictionaries load on first use): parse these schemas with
 * safeParseAsync. It runs only on a password of the right length, so a field
 * gets one message; `contextOf` says whose password it is.
 */
function judgeNewPassword<T extends Record<string, unknown>>(field: keyof T & string, contextOf: (value: T) => PasswordContext) {
  return async (value: T, ctx: z.RefinementCtx) => {
    const password = value[field];
    if (typeof password !== "string" || passwordLengthProblem(password, passwordMinLength())) return;
    const problem = await newPasswordProblem(password, contextOf(value));
    if (problem) ctx.addIssue({ code: "custom", path: [field], message: problem });
  };
}

export const passwordStepSchema = z.object({
  email: emailField,
  password: passwordField,
  callbackUrl: z.string().max(2048).optional(),
});

export const totpStepSchema = z.object({ code: totpCodeField });
export const recoveryStepSchema = z.object({ code: recoveryCodeField });

/** Users → Add user: an administrator sets someone else's password. Parse with safeParseAsync. */
export const newUserSchema = z
  .object({
    name: nameField,
    email: emailField,
    password: newPasswordField,
    admin: checkboxField,
  })
  .superRefine(judgeNewPassword("password", (value) => ({ name: value.name, email: value.email, whose: "the user's" })));

/** First run: the administrator's own password. Parse with safeParseAsync. */
export const setupSchema = z
  .object({
    token: z.string().max(200),
    name: nameField,
    email: emailField,
    password: newPasswordField,
  })
  .superRefine(judgeNewPassword("password", (value) => ({ name: value.name, email: value.email, whose: "your" })));

export const instanceSecuritySchema = z.object({
  twoFactorEnabled: checkboxField,
  trustBrowserEnabled: checkboxField,
  passkeySignInEnabled: checkboxField,
  requireSecurityKeyForAdmins: checkboxField,
  trustBrowserDays: z.coerce
    .number({ error: "Enter a number of days from 1 to 90." })
    .int({ error: "Enter a number of days from 1 to 90." })
    .min(1, { error: "Enter a number of days from 1 to 90." })
    .max(90, { error: "Enter a number of days from 1 to 90." }),
  requireTwoFactorFor: z.enum(["nobody", "admins", "everyone"], { error: "Choose who must use two-factor authentication." }),
  requireGraceDays: z.coerce
    .number({ error: "Enter a grace period from 0 to 90 days." })
    .int({ error: "Enter a grace period from 0 to 90 days." })
    .min(0, { error: "Enter a grace period from 0 to 90 days." })
    .max(90, { error: "Enter a grace period from 0 to 90 days." }),
});

/** Change password, for the signed-in user (their name and email from the session, never the form). Parse with safeParseAsync. */
export function passwordChangeSchema(user: { name: string; email: string }) {
  return z
    .object({
      currentPassword: passwordField,
      newPassword: newPasswordField,
    })
    .superRefine(judgeNewPassword("newPassword", () => ({ name: user.name, email: user.email, whose: "your" })));
}

/** The first message of each field, for forms. */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  return z.flattenError(error).fieldErrors as Record<string, string[]>;
}

export const userPropertiesSchema = z.object({
  name: nameField,
  email: emailField,
  admin: checkboxField,
  twoFactorEnabled: checkboxField,
});

export const userIdSchema = z.uuid();

/** User properties → Remove (one key, by id) or Remove all ("all"). */
export const securityKeyRemovalSchema = z.object({ keyId: z.union([z.uuid(), z.literal("all")]) });

/** The admin's confirmation: a 6-digit code or a password, depending on the admin. */
export const confirmationSchema = z.object({ secret: z.string().min(1).max(1024) });

/** My Settings → Security keys: the name given after the browser's prompt, or with Rename. */
export const securityKeyNameSchema = z.object({ name: securityKeyNameField });
