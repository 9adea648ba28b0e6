import { json, readStepRequest } from "@/lib/validation/json-request";
import { formAnswer } from "../form-answer";
import { codeStepAnswer } from "../steps";

/**
 * POST /login/code — sign-in step 2, as JSON (or the form itself, JavaScript off:
 * ../form-answer.ts): the session cookie is set here and the browser navigates itself (a server action's redirect() would render
 * the next page inside this request). Who may call: anyone; what it needs is
 * the challenge cookie of step 1, checked against the database.
 */
export async function POST(request: Request): Promise<Response> {
  const read = await readStepRequest(request);
  if (!read.ok) return read.response;
  const answer = await codeStepAnswer(read.body);
  return read.form ? formAnswer(answer, read.body) : json(answer);
}
