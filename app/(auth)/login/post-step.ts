import { BROWSER_MESSAGES } from "@/lib/validation/browser-messages";
import type { StepAnswer } from "./steps";

/**
 * Sends a sign-in step's form to its route handler as JSON (the content type
 * is part of the CSRF defence: see lib/validation/json-request.ts) and reads
 * the answer. A network failure or an answer that is not ours becomes a
 * message on the form, never an exception.
 */
export async function postStep(step: "password" | "code" | "passkey", form: FormData): Promise<StepAnswer> {
  const fields = Object.fromEntries([...form].filter((entry): entry is [string, string] => typeof entry[1] === "string"));
  try {
    const response = await fetch(`/login/${step}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(fields),
      credentials: "same-origin",
      cache: "no-store",
    });
    const answer = (await response.json()) as StepAnswer;
    if (typeof answer?.status === "string") return answer;
  } catch {
    // fall through: offline, or an answer from something other than the app (a proxy's error page)
  }
  return { status: "error", message: BROWSER_MESSAGES.unreachable, step: step === "passkey" ? "password" : step };
}
