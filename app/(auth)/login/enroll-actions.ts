"use server";
import { redirect } from "next/navigation";
import { readChallengeCookie, setChallengeCookie } from "@/lib/auth/challenge-cookie";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { confirmSignInEnrollment, startSignInEnrollment, type SignInEnrollmentError } from "@/lib/two-factor/sign-in-enrollment";
import { qrCodeSvg } from "@/lib/two-factor/qr-code";
import { safeCallbackPath } from "@/lib/validation/callback-url";
import { totpStepSchema, fieldErrors } from "@/lib/validation/forms";
import type { CodesState, EnrollmentStart } from "@/lib/validation/enrollment-states";
import { MESSAGES, INVALID_REQUEST } from "@/lib/validation/messages";
import { finishSignIn } from "./finish-sign-in";

// Forced enrollment at sign-in: the caller is whoever holds an "enroll" challenge (the password
// passed, 2FA is required, nothing enrolled yet); lib/two-factor/sign-in-enrollment.ts checks it.

const messageFor = (error: SignInEnrollmentError) =>
  error === "code_invalid" ? MESSAGES.codeInvalid : error === "locked_out" ? MESSAGES.lockedOut : MESSAGES.challengeExpired;

export async function startSignInEnrollmentAction(): Promise<EnrollmentStart> {
  const result = await startSignInEnrollment(await getDb(), await readChallengeCookie());
  if (!result.ok) return { status: "error", message: MESSAGES.challengeExpired };
  return { status: "success", qrSvg: await qrCodeSvg(result.uri), setupKey: result.secret };
}

export async function confirmSignInEnrollmentAction(_prev: CodesState, formData: FormData): Promise<CodesState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const token = await readChallengeCookie();
  if (!token) return { status: "error", message: MESSAGES.challengeExpired };
  const parsed = totpStepSchema.safeParse({ code: formData.get("code") ?? undefined });
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    return { status: "error", message: errors.code?.[0] ?? MESSAGES.codeFormat, fieldErrors: errors };
  }
  const result = await confirmSignInEnrollment(await getDb(), token, parsed.data.code, await requestContext());
  if (!result.ok) return { status: "error", message: messageFor(result.error) };
  // The "enroll" challenge ended with the enrollment; Done finishes with the "enrolled" one.
  await setChallengeCookie(result.challenge);
  return { status: "success", recoveryCodes: result.recoveryCodes };
}

/** Done: the enrollment of this challenge is the second factor; the session is issued now. */
export async function finishSignInEnrollmentAction(callbackUrl: unknown): Promise<void> {
  const challenge = await readChallengeCookie();
  const failure = await finishSignIn(challenge, "enrolled", "");
  // The argument comes from the client, which read it from the URL: only a path of this app.
  redirect(failure ? "/login?expired=1" : safeCallbackPath(callbackUrl));
}
