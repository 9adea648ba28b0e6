import "server-only";
import { passwordStep } from "@/lib/auth/sign-in";
import { readChallengeCookie, setChallengeCookie } from "@/lib/auth/challenge-cookie";
import { readTrustCookie } from "@/lib/auth/trust-cookie";
import type { SecondStepMethod } from "@/lib/auth/second-step";
import { getDb } from "@/lib/db";
import type { RequestContext } from "@/lib/audit";
import { safeCallbackPath } from "@/lib/validation/callback-url";
import { fieldErrors, passwordStepSchema, recoveryStepSchema, totpStepSchema } from "@/lib/validation/forms";
import { MESSAGES } from "@/lib/validation/messages";
import { finishSignIn, type LoginState } from "./finish-sign-in";

/** What a sign-in step answers: the form's next state, or where to go now that the session cookie is set. */
export type StepAnswer = LoginState | { status: "signed-in"; to: string };

/**
 * Step 1: email and password. Opens the challenge, or signs in directly when
 * no code is due (or a trusted browser of this user stands in for it).
 */
export async function passwordStepAnswer(body: Record<string, unknown>, context: RequestContext): Promise<StepAnswer> {
  const parsed = passwordStepSchema.safeParse(body);
  if (!parsed.success) {
    return {
      status: "error",
      message: MESSAGES.signInFailed,
      fieldErrors: fieldErrors(parsed.error),
      step: "password",
      email: typeof body.email === "string" ? body.email.slice(0, 254) : undefined,
    };
  }
  const { email, password, callbackUrl } = parsed.data;
  const result = await passwordStep(await getDb(), { email, password }, context);
  if (!result.ok) return { status: "error", message: MESSAGES.signInFailed, step: "password", email };
  const signedIn = { status: "signed-in", to: safeCallbackPath(callbackUrl) } as const;
  const trustToken = result.secondFactorDue ? await readTrustCookie() : "";
  if (trustToken && !(await finishSignIn(result.challenge, "trusted", "", { trustToken }))) return signedIn;
  if (result.secondFactorDue || result.enrollmentDue) {
    await setChallengeCookie(result.challenge);
    return { status: "idle", step: result.enrollmentDue ? "enroll" : "code" };
  }
  return (await finishSignIn(result.challenge, "none", "")) ?? signedIn;
}

/** Step 2: a TOTP code or a recovery code, against the challenge in the cookie. */
export async function codeStepAnswer(body: Record<string, unknown>): Promise<StepAnswer> {
  const method: SecondStepMethod = body.method === "recovery" ? "recovery" : "totp";
  const schema = method === "recovery" ? recoveryStepSchema : totpStepSchema;
  const parsed = schema.safeParse({ code: body.code });
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    return { status: "error", message: errors.code?.[0] ?? MESSAGES.invalidRequest, fieldErrors: errors, step: "code" };
  }
  const challenge = await readChallengeCookie();
  if (!challenge) return { status: "error", message: MESSAGES.challengeExpired, step: "password" };
  const trust = method === "totp" && (body.trust === true || body.trust === "on");
  return (await finishSignIn(challenge, method, parsed.data.code, { trust })) ?? { status: "signed-in", to: safeCallbackPath(body.callbackUrl) };
}
