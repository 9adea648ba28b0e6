import { json, readJsonRequest } from "@/lib/validation/json-request";
import { codeStepAnswer } from "../steps";

/**
 * POST /login/code — sign-in step 2, as JSON: the session cookie is set here
 * and the browser navigates itself (a server action's redirect() would render
 * the next page inside this request). Who may call: anyone; what it needs is
 * the challenge cookie of step 1, checked against the database.
 */
export async function POST(request: Request): Promise<Response> {
  const read = await readJsonRequest(request);
  if (!read.ok) return read.response;
  return json(await codeStepAnswer(read.body));
}
