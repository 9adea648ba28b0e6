"use server";
import { eq } from "drizzle-orm";
import { redirect } from "next/navigation";
import { users } from "@/db/schema";
import { findChallenge } from "@/lib/auth/challenge";
import { readChallengeCookie } from "@/lib/auth/challenge-cookie";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { qrCodeSvg } from "@/lib/two-factor/qr-code";
import { safeCallbackPath } from "@/lib/validation/callback-url";
import { totpStepSchema, fieldErrors } from "@/lib/validation/forms";
import type { CodesState, EnrollmentStart } from "@/lib/validation/enrollment-states";
import { MESSAGES, INVALID_REQUEST } from "@/lib/validation/messages";
import { finishSignIn } from "./finish-sign-in";

/**
 * Forced enrollment at sign-in: the caller is whoever holds an "enroll"
 * challenge (the password passed, 2FA is required, nothing enrolled yet).
 */
async function enrollingUser(): Promise<{ id: string; email: string } | null> {
  const db = await getDb();
  const challenge = await findChallenge(db, await readChallengeCookie());
  if (challenge?.purpose !== "enroll") return null;
  const [user] = await db.select({ id: users.id, email: users.email }).from(users).where(eq(users.id, challenge.userId));
  return user ?? null;
}

export async function startSignInEnrollmentAction(): Promise<EnrollmentStart> {
  const user = await enrollingUser();
  if (!user) return { status: "error", message: MESSAGES.challengeExpired };
  const result = await startEnrollment(await getDb(), user);
  if (!result.ok) return { status: "error", message: MESSAGES.challengeExpired };
  return { status: "success", qrSvg: await qrCodeSvg(result.uri), setupKey: result.secret };
}

export async function confirmSignInEnrollmentAction(_prev: CodesState, formData: FormData): Promise<CodesState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const user = await enrollingUser();
  if (!user) return { status: "error", message: MESSAGES.challengeExpired };
  const parsed = totpStepSchema.safeParse({ code: formData.get("code") ?? undefined });
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    return { status: "error", message: errors.code?.[0] ?? MESSAGES.codeFormat, fieldErrors: errors };
  }
  const result = await confirmEnrollment(await getDb(), user.id, parsed.data.code, await requestContext());
  if (!result.ok) return { status: "error", message: result.error === "code_invalid" ? MESSAGES.codeInvalid : MESSAGES.challengeExpired };
  return { status: "success", recoveryCodes: result.recoveryCodes };
}

/** Done: the enrollment of this challenge is the second factor; the session is issued now. */
export async function finishSignInEnrollmentAction(callbackUrl: unknown): Promise<void> {
  const challenge = await readChallengeCookie();
  const failure = await finishSignIn(challenge, "enrolled", "");
  // The argument comes from the client, which read it from the URL: only a path of this app.
  redirect(failure ? "/login?expired=1" : safeCallbackPath(callbackUrl));
}
