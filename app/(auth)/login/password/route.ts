import { contextFromHeaders } from "@/lib/request-context";
import { json, readStepRequest } from "@/lib/validation/json-request";
import { formAnswer } from "../form-answer";
import { passwordStepAnswer } from "../steps";

/**
 * POST /login/password — sign-in step 1, as JSON from the page, or the form itself
 * with JavaScript off (answered with a redirect: ../form-answer.ts). A route handler rather than
 * a server action: an action that sets a cookie makes Next render the page
 * again inside its answer, which cost most of this request (docs/PERFORMANCE.md).
 */
export async function POST(request: Request): Promise<Response> {
  const read = await readStepRequest(request);
  if (!read.ok) return read.response;
  const answer = await passwordStepAnswer(read.body, contextFromHeaders(request.headers));
  return read.form ? formAnswer(answer, read.body) : json(answer);
}
