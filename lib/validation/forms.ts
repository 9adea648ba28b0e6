import { z } from "zod";
import { checkboxField, emailField, nameField, newPasswordField, passwordField, recoveryCodeField, totpCodeField } from "./fields";

export const passwordStepSchema = z.object({
  email: emailField,
  password: passwordField,
  callbackUrl: z.string().max(2048).optional(),
});

export const totpStepSchema = z.object({ code: totpCodeField });
export const recoveryStepSchema = z.object({ code: recoveryCodeField });

export const newUserSchema = z.object({
  name: nameField,
  email: emailField,
  password: newPasswordField,
  admin: checkboxField,
});

export const setupSchema = z.object({
  token: z.string().max(200),
  name: nameField,
  email: emailField,
  password: newPasswordField,
});

export const instanceSecuritySchema = z.object({
  twoFactorEnabled: checkboxField,
  trustBrowserEnabled: checkboxField,
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

export const passwordChangeSchema = z.object({
  currentPassword: passwordField,
  newPassword: newPasswordField,
});

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

/** The admin's confirmation: a 6-digit code or a password, depending on the admin. */
export const confirmationSchema = z.object({ secret: z.string().min(1).max(1024) });
