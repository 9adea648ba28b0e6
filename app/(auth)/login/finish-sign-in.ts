import "server-only";
import { AuthError } from "next-auth";
import { clearChallengeCookie } from "@/lib/auth/challenge-cookie";
import { signIn } from "@/lib/auth/next-auth";
import type { SecondStepError, SecondStepMethod } from "@/lib/auth/second-step";
import type { Factors } from "@/lib/two-factor/factors";
import { MESSAGES, type FormState } from "@/lib/validation/messages";

/** `email` is echoed so the form keeps it after a failure (React resets forms after an action); never the password. */
/** `factors`: what the code step offers (a security key first, when the user has one). */
export type LoginState = FormState & { step?: "code" | "password" | "enroll"; email?: string; factors?: Factors };

const SECOND_STEP_MESSAGES: Record<SecondStepError, string> = {
  challenge_expired: MESSAGES.challengeExpired,
  code_invalid: MESSAGES.codeInvalid,
  recovery_invalid: MESSAGES.recoveryCodeInvalid,
  locked_out: MESSAGES.lockedOut,
  not_trusted: MESSAGES.codeInvalid,
  key_invalid: MESSAGES.securityKeyInvalid,
};

/** Asks Auth.js for the session; returns the failure to show, or null when signed in. */
export async function finishSignIn(
  challenge: string,
  method: SecondStepMethod,
  code: string,
  options: { trust?: boolean; trustToken?: string; assertion?: string } = {},
): Promise<LoginState | null> {
  try {
    await signIn("credentials", {
      challenge,
      method,
      code,
      trust: options.trust ? "on" : "",
      trustToken: options.trustToken ?? "",
      assertion: options.assertion ?? "",
      redirect: false,
    });
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

/** Sign in with a passkey: Auth.js judges the assertion against this browser's passkey challenge; null when signed in. */
export async function finishPasskeySignIn(assertion: string): Promise<LoginState | null> {
  try {
    await signIn("credentials", { method: "passkey", assertion, redirect: false });
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    const reason = (error as AuthError & { code?: string }).code;
    return { status: "error", message: reason === "not_a_passkey" ? MESSAGES.notAPasskey : MESSAGES.passkeyInvalid, step: "password" };
  }
  return null;
}
