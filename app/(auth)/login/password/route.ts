import { contextFromHeaders } from "@/lib/request-context";
import { json, readJsonRequest } from "@/lib/validation/json-request";
import { passwordStepAnswer } from "../steps";

/**
 * POST /login/password — sign-in step 1, as JSON. A route handler rather than
 * a server action: an action that sets a cookie makes Next render the page
 * again inside its answer, which cost most of this request (docs/PERFORMANCE.md).
 */
export async function POST(request: Request): Promise<Response> {
  const read = await readJsonRequest(request);
  if (!read.ok) return read.response;
  return json(await passwordStepAnswer(read.body, contextFromHeaders(request.headers)));
}
