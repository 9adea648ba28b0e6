import "server-only";
import { MESSAGES } from "@/lib/validation/messages";
import { safeCallbackPath } from "@/lib/validation/callback-url";
import { nodeSafeLocation } from "@/lib/validation/location-header";
import type { StepAnswer } from "./steps";

/**
 * What a sign-in step can answer (./steps.ts, ./finish-sign-in.ts, the fields' checks): the only messages a
 * redirect may name. Any other key of the catalogue in a crafted link ("Password changed…", "…two-factor
 * authentication is off") would be a notice the sign-in never gave.
 */
const ANSWERS = [
  "signInFailed",
  "challengeExpired",
  "codeInvalid",
  "codeFormat",
  "recoveryCodeInvalid",
  "recoveryCodeFormat",
  "lockedOut",
  "securityKeyInvalid",
  "passkeyInvalid",
  "notAPasskey",
  "emailFormat",
  "passwordRequired",
  "invalidRequest",
] as const satisfies readonly (keyof typeof MESSAGES)[];
export type MessageKey = (typeof ANSWERS)[number];

/**
 * A step's answer to the HTML form itself (JavaScript off): a 303 to the next
 * page, as a redirect after POST should be. Signed in: where the sign-in was
 * going. Otherwise back to /login, which shows the step the challenge cookie
 * is at (the cookie was set or cleared with this answer) and the message,
 * named by its key in the catalogue: the URL never carries text to show, nor
 * the email (addresses do not belong in URLs, logs and history).
 */
export function formAnswer(answer: StepAnswer, body: Record<string, unknown>): Response {
  if (answer.status === "signed-in") return seeOther(answer.to);
  const query = new URLSearchParams();
  const callbackUrl = safeCallbackPath(body.callbackUrl);
  if (callbackUrl !== "/") query.set("callbackUrl", callbackUrl);
  const message = answer.status === "error" ? messageKey(answer.fieldErrors ? Object.values(answer.fieldErrors).flat()[0] : answer.message) : null;
  if (message) query.set("error", message);
  if (answer.step === "code" && typeof body.method === "string" && body.method !== "totp") query.set("method", body.method);
  const search = query.toString();
  return seeOther(search ? `/login?${search}` : "/login");
}

/** The key of a step's message (the answers carry the text); one no step gives is shown as not valid. */
function messageKey(text: string | undefined): MessageKey {
  return ANSWERS.find((key) => MESSAGES[key] === text) ?? "invalidRequest";
}

/** A message named in /login's query: only one a sign-in step answers with, never text from the URL. */
export function messageOf(key: unknown): string | null {
  const known = ANSWERS.find((answer) => answer === key);
  return known ? MESSAGES[known] : null;
}

function seeOther(location: string): Response {
  return new Response(null, { status: 303, headers: { location: nodeSafeLocation(location), "cache-control": "no-store" } });
}
