"use server";
import { redirect } from "next/navigation";
import { AuthError } from "next-auth";
import { passwordStep } from "@/lib/auth/sign-in";
import { signIn } from "@/lib/auth/next-auth";
import { clearChallengeCookie, readChallengeCookie, setChallengeCookie } from "@/lib/auth/challenge-cookie";
import type { SecondStepError, SecondStepMethod } from "@/lib/auth/second-step";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { safeCallbackPath } from "@/lib/validation/callback-url";
import { fieldErrors, passwordStepSchema, recoveryStepSchema, totpStepSchema } from "@/lib/validation/forms";
import { MESSAGES, type FormState } from "@/lib/validation/messages";

const SECOND_STEP_MESSAGES: Record<SecondStepError, string> = {
  challenge_expired: MESSAGES.challengeExpired,
  code_invalid: MESSAGES.codeInvalid,
  recovery_invalid: MESSAGES.recoveryCodeInvalid,
  locked_out: MESSAGES.lockedOut,
};

/** `email` is echoed so the form keeps it after a failure (React resets forms after an action); never the password. */
export type LoginState = FormState & { step?: "code" | "password"; email?: string };

/** Step 1: email and password. Opens the challenge, or signs in directly when no code is due. */
export async function passwordStepAction(_prev: LoginState, formData: FormData): Promise<LoginState> {
  const parsed = passwordStepSchema.safeParse(Object.fromEntries(formData));
  if (!parsed.success) {
    const typed = formData.get("email");
    return {
      status: "error",
      message: MESSAGES.signInFailed,
      fieldErrors: fieldErrors(parsed.error),
      step: "password",
      email: typeof typed === "string" ? typed.slice(0, 254) : undefined,
    };
  }
  const { email, password, callbackUrl } = parsed.data;
  const result = await passwordStep(await getDb(), { email, password }, await requestContext());
  if (!result.ok) return { status: "error", message: MESSAGES.signInFailed, step: "password", email };
  if (result.secondFactorDue) {
    await setChallengeCookie(result.challenge);
    return { status: "idle", step: "code" };
  }
  const failure = await finishSignIn(result.challenge, "none", "");
  if (failure) return failure;
  redirect(safeCallbackPath(callbackUrl));
}

/** Step 2: a TOTP code or a recovery code, against the challenge in the cookie. */
export async function codeStepAction(_prev: LoginState, formData: FormData): Promise<LoginState> {
  const method: SecondStepMethod = formData.get("method") === "recovery" ? "recovery" : "totp";
  const schema = method === "recovery" ? recoveryStepSchema : totpStepSchema;
  const parsed = schema.safeParse({ code: formData.get("code") ?? undefined });
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    return { status: "error", message: errors.code?.[0] ?? MESSAGES.invalidRequest, fieldErrors: errors, step: "code" };
  }
  const challenge = await readChallengeCookie();
  if (!challenge) return { status: "error", message: MESSAGES.challengeExpired, step: "password" };
  const failure = await finishSignIn(challenge, method, parsed.data.code);
  if (failure) return failure;
  redirect(safeCallbackPath(formData.get("callbackUrl")));
}

/** Leaves the code step: forget the challenge, back to email and password. */
export async function cancelSignInAction(): Promise<void> {
  await clearChallengeCookie();
  redirect("/login");
}

/** Asks Auth.js for the session; returns the failure to show, or null when signed in. */
async function finishSignIn(challenge: string, method: SecondStepMethod, code: string): Promise<LoginState | null> {
  try {
    await signIn("credentials", { challenge, method, code, redirect: false });
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    const reason = (error as AuthError & { code?: string }).code as SecondStepError | undefined;
    const message = (reason && SECOND_STEP_MESSAGES[reason]) || MESSAGES.challengeExpired;
    if (reason === "challenge_expired" || !reason) {
      await clearChallengeCookie();
      return { status: "error", message, step: "password" };
    }
    return { status: "error", message, step: "code" };
  }
  await clearChallengeCookie();
  return null;
}
