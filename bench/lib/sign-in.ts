import { request } from "undici";
import { CODE, EMAIL, PASSWORD, fill, retarget, setCookieValue, type SignInTemplates } from "./actions";
import { BENCH_PASSWORD } from "./config";
import { base32Decode, hotp, timeStep } from "./totp";

export const SESSION_COOKIE = "authjs.session-token";

/**
 * One sign-in over HTTP with the captured requests: the password step, then
 * (when the user has 2FA) the code step. Returns the session cookie value.
 */
export async function signInOverHttp(
  origin: string,
  templates: SignInTemplates,
  user: { email: string; secret?: string; password?: string },
): Promise<string> {
  const password = retarget(templates.password, origin);
  const first = fill(password, { [EMAIL]: user.email, [PASSWORD]: user.password ?? BENCH_PASSWORD });
  const answer = await request(origin + first.path, { method: "POST", headers: first.headers, body: first.body });
  await answer.body.arrayBuffer();
  const session = setCookieValue(answer.headers["set-cookie"], SESSION_COOKIE);
  if (session) return session;
  const challenge = setCookieValue(answer.headers["set-cookie"], "signin-challenge");
  if (!challenge || !user.secret) throw new Error(`password step failed for ${user.email}: ${answer.statusCode}`);
  const code = retarget(templates.code, origin);
  const second = fill(code, { [CODE]: hotp(base32Decode(user.secret), timeStep()) }, `signin-challenge=${challenge}`);
  const done = await request(origin + second.path, { method: "POST", headers: second.headers, body: second.body });
  await done.body.arrayBuffer();
  const token = setCookieValue(done.headers["set-cookie"], SESSION_COOKIE);
  if (!token) throw new Error(`code step failed for ${user.email}: ${done.statusCode}`);
  return token;
}
