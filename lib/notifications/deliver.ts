import "server-only";
import { after } from "next/server";

/**
 * Runs a notification job without letting it slow down or break what
 * triggered it. During a request (server action, route handler — the Auth.js
 * sign-in runs inside one) Next's `after()` runs it once the response is sent;
 * outside a request (the CLI, tests) it runs now and is awaited, so that the
 * process does not exit before the mail is out. Either way a failure is
 * logged, never thrown: the change it reports has already been committed.
 */
export async function runAfterResponse(label: string, job: () => Promise<void>): Promise<void> {
  const guarded = () => job().catch((error: unknown) => console.error(`[mail] ${label}: not sent (${describeError(error)})`));
  try {
    after(guarded);
    return;
  } catch {
    // `after` throws outside a request scope: run it here instead.
  }
  await guarded();
}

/**
 * The error's code and first line, capped: enough to act on. Nodemailer's
 * messages name the server and the SMTP reply, never SMTP_URL's password; an
 * SMTP reply may quote the recipient, whose local part is masked (the label
 * names the user by id).
 */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return "unknown error";
  const code = (error as { code?: unknown }).code;
  // Capped first, so the global replace stays cheap whatever the reply.
  const line = error.message.split("\n")[0].slice(0, 200).replace(/[^\s<>@:;,"']+@/g, "…@");
  return typeof code === "string" ? `${code}: ${line}` : line;
}
