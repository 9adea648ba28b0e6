import "server-only";
import { passwordStep } from "@/lib/auth/sign-in";
import { readChallengeCookie, setChallengeCookie } from "@/lib/auth/challenge-cookie";
import { readKnownDeviceCookie, setKnownDeviceCookie } from "@/lib/auth/known-device-cookie";
import { readTrustCookie } from "@/lib/auth/trust-cookie";
import type { SecondStepMethod } from "@/lib/auth/second-step";
import { getDb } from "@/lib/db";
import type { RequestContext } from "@/lib/audit";
import { safeCallbackPath } from "@/lib/validation/callback-url";
import { fieldErrors, passwordStepSchema, recoveryStepSchema, totpStepSchema } from "@/lib/validation/forms";
import { MESSAGES } from "@/lib/validation/messages";
import { finishPasskeySignIn, finishSignIn, type LoginState } from "./finish-sign-in";

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
  const knownDevice = await readKnownDeviceCookie();
  const result = await passwordStep(await getDb(), { email, password, knownDevice }, context);
  if (!result.ok) return { status: "error", message: MESSAGES.signInFailed, step: "password", email };
  // This browser proved the password: its failures count on a counter of its own from now on.
  await setKnownDeviceCookie(result.knownDevice);
  const signedIn = { status: "signed-in", to: safeCallbackPath(callbackUrl) } as const;
  const trustToken = result.secondFactorDue ? await readTrustCookie() : "";
  if (trustToken && !(await finishSignIn(result.challenge, "trusted", "", { trustToken }))) return signedIn;
  if (result.enrollmentDue) {
    await setChallengeCookie(result.challenge);
    return { status: "idle", step: "enroll" };
  }
  if (result.secondFactorDue) {
    await setChallengeCookie(result.challenge);
    return { status: "idle", step: "code", factors: result.factors };
  }
  return (await finishSignIn(result.challenge, "none", "")) ?? signedIn;
}

/** Step 2: a TOTP code, a recovery code or a security key's assertion, against the challenge in the cookie. */
export async function codeStepAnswer(body: Record<string, unknown>): Promise<StepAnswer> {
  if (body.method === "security_key") return securityKeyAnswer(body);
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

/** Step 2 with Use security key: the assertion is judged by the factor (lib/auth/factors/security-key.ts). */
async function securityKeyAnswer(body: Record<string, unknown>): Promise<StepAnswer> {
  const challenge = await readChallengeCookie();
  if (!challenge) return { status: "error", message: MESSAGES.challengeExpired, step: "password" };
  const assertion = typeof body.assertion === "string" ? body.assertion : "";
  const trust = body.trust === true || body.trust === "on";
  const failed = await finishSignIn(challenge, "security_key", "", { trust, assertion });
  return failed ?? { status: "signed-in", to: safeCallbackPath(body.callbackUrl) };
}

/** Sign in with a passkey: the assertion alone, over this browser's passkey challenge (lib/security-keys/passkey-sign-in.ts). */
export async function passkeyStepAnswer(body: Record<string, unknown>): Promise<StepAnswer> {
  const assertion = typeof body.assertion === "string" ? body.assertion : "";
  return (await finishPasskeySignIn(assertion)) ?? { status: "signed-in", to: safeCallbackPath(body.callbackUrl) };
}
