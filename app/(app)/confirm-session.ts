import "server-only";
import { confirmAdmin, stepUpMethod, type AdminSession } from "@/lib/admin/step-up";
import { getDb } from "@/lib/db";
import { confirmWithKey } from "@/lib/security-keys/step-up";
import { requestContext } from "@/lib/request-context";
import { confirmationSchema } from "@/lib/validation/forms";
import { MAX_ASSERTION_CHARS, parseJsonText } from "@/lib/validation/json-text";
import { MESSAGES, type FormState, INVALID_REQUEST } from "@/lib/validation/messages";

/**
 * The form of a confirmation (Authentication code, or Password without 2FA →
 * Confirm), for this session only: an administrator's before a change that
 * weakens sign-in, anyone's before adding or removing a security key of their own.
 * The caller's action has checked who is calling.
 */
export async function confirmThisSession(session: AdminSession, formData: FormData): Promise<FormState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const db = await getDb();
  const assertion = formData.get("assertion");
  if (typeof assertion === "string") {
    // A security key's answer to this session's prompt (lib/security-keys/step-up.ts).
    const verdict = await confirmWithKey(db, session, parseJsonText(assertion, MAX_ASSERTION_CHARS), await requestContext());
    if (verdict === "ok") return { status: "success" };
    return { status: "error", message: verdict === "locked_out" ? MESSAGES.lockedOut : MESSAGES.securityKeyInvalid };
  }
  const parsed = confirmationSchema.safeParse({ secret: formData.get("secret") ?? undefined });
  if (!parsed.success) return { status: "error", message: MESSAGES.confirmationRequired };
  const verdict = await confirmAdmin(db, session, parsed.data.secret, await requestContext());
  if (verdict === "locked_out") {
    // Codes share the sign-in lockout; passwords the signed-in password limit (lib/auth/password-attempts.ts).
    const method = await stepUpMethod(db, session.id);
    return { status: "error", message: method === "password" ? MESSAGES.tooManyAttempts : MESSAGES.lockedOut };
  }
  if (verdict !== "ok") return { status: "error", message: MESSAGES.confirmationFailed };
  return { status: "success" };
}
