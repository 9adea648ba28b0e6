import { json, readStepRequest } from "@/lib/validation/json-request";
import { formAnswer } from "../form-answer";
import { passkeyStepAnswer } from "../steps";

/**
 * POST /login/passkey — Sign in with a passkey, as JSON: the assertion alone,
 * over the challenge in this browser's passkey cookie; the session cookie is
 * set here. Who may call: anyone; what it needs is that cookie and a passkey
 * of a user, both checked against the database.
 */
export async function POST(request: Request): Promise<Response> {
  const read = await readStepRequest(request);
  if (!read.ok) return read.response;
  const answer = await passkeyStepAnswer(read.body);
  return read.form ? formAnswer(answer, read.body) : json(answer);
}
