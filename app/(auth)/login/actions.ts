"use server";
import { redirect } from "next/navigation";
import { passwordStep } from "@/lib/auth/sign-in";
import { clearChallengeCookie, readChallengeCookie, setChallengeCookie } from "@/lib/auth/challenge-cookie";
import { finishSignIn, type LoginState } from "./finish-sign-in";
import { readTrustCookie } from "@/lib/auth/trust-cookie";
import type { SecondStepMethod } from "@/lib/auth/second-step";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { safeCallbackPath } from "@/lib/validation/callback-url";
import { fieldErrors, passwordStepSchema, recoveryStepSchema, totpStepSchema } from "@/lib/validation/forms";
import { MESSAGES, INVALID_REQUEST } from "@/lib/validation/messages";

export type { LoginState };

/** Step 1: email and password. Opens the challenge, or signs in directly when no code is due. */
export async function passwordStepAction(_prev: LoginState, formData: FormData): Promise<LoginState> {
  if (!(formData instanceof FormData)) return { ...INVALID_REQUEST, step: "password" };
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
  const trustToken = result.secondFactorDue ? await readTrustCookie() : "";
  if (trustToken && !(await finishSignIn(result.challenge, "trusted", "", { trustToken }))) {
    redirect(safeCallbackPath(callbackUrl)); // a trusted browser of this user: no code step
  }
  if (result.secondFactorDue || result.enrollmentDue) {
    await setChallengeCookie(result.challenge);
    return { status: "idle", step: result.enrollmentDue ? "enroll" : "code" };
  }
  const failure = await finishSignIn(result.challenge, "none", "");
  if (failure) return failure;
  redirect(safeCallbackPath(callbackUrl));
}

/** Step 2: a TOTP code or a recovery code, against the challenge in the cookie. */
export async function codeStepAction(_prev: LoginState, formData: FormData): Promise<LoginState> {
  if (!(formData instanceof FormData)) return { ...INVALID_REQUEST, step: "password" };
  const method: SecondStepMethod = formData.get("method") === "recovery" ? "recovery" : "totp";
  const schema = method === "recovery" ? recoveryStepSchema : totpStepSchema;
  const parsed = schema.safeParse({ code: formData.get("code") ?? undefined });
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    return { status: "error", message: errors.code?.[0] ?? MESSAGES.invalidRequest, fieldErrors: errors, step: "code" };
  }
  const challenge = await readChallengeCookie();
  if (!challenge) return { status: "error", message: MESSAGES.challengeExpired, step: "password" };
  const trust = method === "totp" && formData.get("trust") === "on";
  const failure = await finishSignIn(challenge, method, parsed.data.code, { trust });
  if (failure) return failure;
  redirect(safeCallbackPath(formData.get("callbackUrl")));
}

/** Forgets the challenge without navigating (the caller reloads the sign-in page). */
export async function abandonSignInAction(): Promise<void> {
  await clearChallengeCookie();
}

/** Leaves the code step: forget the challenge, back to email and password. */
export async function cancelSignInAction(): Promise<void> {
  await clearChallengeCookie();
  redirect("/login");
}
