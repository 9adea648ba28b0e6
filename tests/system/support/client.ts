import { request, type APIRequestContext } from "@playwright/test";
import { generateSync } from "otplib";
import { callServerAction, serverActionIds } from "../../e2e/fixtures/server-actions";

/**
 * A bare HTTP client of the app, the way a script (or an attacker) drives it:
 * its own cookie jar, and server actions called by their id from the client
 * bundles — no browser. Each call has a timeout, so a hung server fails the test.
 */
export type Client = APIRequestContext;

export type Cookie = { name: string; value: string; domain: string; path: string; expires: number; httpOnly: boolean; secure: boolean; sameSite: "Strict" | "Lax" | "None" };

/** `cookies`: a jar to start with (e.g. a cookie stolen from another client). */
export async function newClient(baseURL: string, options: { timeoutMs?: number; cookies?: Cookie[] } = {}): Promise<Client> {
  const client = await request.newContext({ baseURL, timeout: options.timeoutMs ?? 30_000, storageState: { cookies: options.cookies ?? [], origins: [] } });
  origins.set(client, new URL(baseURL).origin);
  return client;
}

/** Each client's site, for the Origin header a browser would send. */
const origins = new WeakMap<Client, string>();

let ids: Map<string, string> | undefined;

function actionId(name: string): string {
  ids ??= serverActionIds();
  const id = ids.get(name);
  if (!id) throw new Error(`${name} is not in the client bundles of .next (build first)`);
  return id;
}

export type ActionReply = { status: number; body: string; redirectedTo: string | null };

/** Posts server action `name` by its id, the way React does (see callServerAction), to `path`. */
export function callAction(
  client: Client,
  name: string,
  args: { before?: unknown[]; form?: Record<string, string> } = {},
  path = "/",
): Promise<ActionReply> {
  return callServerAction(client, actionId(name), args, {}, path);
}

const IDLE = { status: "idle" };

/** Posts a sign-in step's form to its route handler as the login page does (JSON, this site's Origin). */
async function signInStep(client: Client, step: "password" | "code", fields: Record<string, string>): Promise<ActionReply> {
  const response = await client.post(`/login/${step}`, {
    data: fields,
    headers: { origin: origins.get(client) ?? "" },
    maxRedirects: 0,
  });
  const body = await response.text();
  let to: string | null = null;
  try {
    const answer = JSON.parse(body) as { status?: string; to?: string };
    if (answer.status === "signed-in" && typeof answer.to === "string") to = answer.to;
  } catch {
    // not JSON: a refusal from outside the step (status tells)
  }
  return { status: response.status(), body, redirectedTo: to };
}

/** Sign-in step 1. Ends signed in (no code due) or with the challenge cookie set for step 2. */
export function passwordStep(client: Client, email: string, password: string): Promise<ActionReply> {
  return signInStep(client, "password", { email, password, callbackUrl: "/" });
}

/** Sign-in step 2 with the challenge cookie of this client's jar. */
export function codeStep(client: Client, code: string, method: "totp" | "recovery" = "totp"): Promise<ActionReply> {
  return signInStep(client, "code", { method, code, callbackUrl: "/" });
}

/** The signed-in user's email according to the server, or null. */
export async function sessionEmail(client: Client): Promise<string | null> {
  const response = await client.get("/api/auth/session");
  if (!response.ok()) return null;
  const session = (await response.json()) as { user?: { email?: string } } | null;
  return session?.user?.email ?? null;
}

/** Signs in a user who owes no second factor; throws if that did not give a session. */
export async function signIn(client: Client, email: string, password: string): Promise<void> {
  const reply = await passwordStep(client, email, password);
  if ((await sessionEmail(client)) !== email) throw new Error(`sign-in of ${email} failed: ${reply.status} ${reply.body.slice(0, 300)}`);
}

/** Administration → Users → Add user, by the admin signed in on `client`. True only when the server acknowledged it. */
export async function addUser(client: Client, user: { name: string; email: string; password: string }): Promise<boolean> {
  const reply = await callAction(client, "addUserAction", { before: [IDLE], form: { ...user } });
  return reply.status === 200 && reply.body.includes(`${user.name} was added.`);
}

const PERIOD_S = 30;

/** The TOTP code of `secret` for the step containing `epochSeconds`. */
export function totp(secret: string, epochSeconds = Date.now() / 1000): string {
  return generateSync({ secret, epoch: Math.floor(epochSeconds) });
}

/** Waits, if needed, until at least `marginS` seconds are left in the current 30 s step. */
export async function awayFromStepEnd(marginS = 8): Promise<void> {
  const left = PERIOD_S - ((Date.now() / 1000) % PERIOD_S);
  if (left < marginS) await new Promise((resolve) => setTimeout(resolve, left * 1000 + 200));
}

export type Enrolled = { secret: string; recoveryCodes: string[] };

/**
 * My Settings → Enable → Verify, for the user signed in on `client`. It
 * confirms with the code of the *previous* step (accepted: one step of delay),
 * so that the current step's code is still unused when the caller needs one.
 */
export async function enroll(client: Client): Promise<Enrolled> {
  const start = await callAction(client, "startEnrollmentAction");
  const secret = /"setupKey":"([A-Z2-7]+)"/.exec(start.body)?.[1];
  if (!secret) throw new Error(`enrollment did not start: ${start.status} ${start.body.slice(0, 300)}`);
  await awayFromStepEnd();
  const confirm = await callAction(client, "confirmEnrollmentAction", { before: [IDLE], form: { code: totp(secret, Date.now() / 1000 - PERIOD_S) } });
  const recoveryCodes = confirm.body.match(RECOVERY_CODE) ?? [];
  if (recoveryCodes.length !== 10) throw new Error(`enrollment was not confirmed: ${confirm.status} ${confirm.body.slice(0, 300)}`);
  return { secret, recoveryCodes };
}

// Six groups of four (120-bit codes); the lookarounds keep a longer run from matching in part.
export const RECOVERY_CODE = /(?<![0-9a-z-])[0-9a-z]{4}(?:-[0-9a-z]{4}){5}(?![0-9a-z-])/g;

/** A code that is certainly not valid now (neither step T nor T−1). */
export function wrongCode(secret: string): string {
  const now = Date.now() / 1000;
  const valid = new Set([totp(secret, now), totp(secret, now - PERIOD_S), totp(secret, now + PERIOD_S)]);
  for (let n = 0; ; n++) {
    const candidate = String((123456 + n * 7919) % 1_000_000).padStart(6, "0");
    if (!valid.has(candidate)) return candidate;
  }
}

export function uniqueUser(prefix: string) {
  const id = Math.random().toString(36).slice(2, 10);
  // Nothing of the name or email in the password: a new password containing them is refused.
  const secret = String(Math.floor(Math.random() * 1e8)).padStart(8, "0"); // digits: no prefix ("Racer") can be in them
  return { name: `${prefix} ${id}`, email: `${prefix.toLowerCase()}-${id}@example.com`, password: `amber-lantern-${secret}` };
}
