import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * Server actions and route handlers called over plain HTTP (fetch), with
 * cookies given explicitly on each request: no cookie jar, so a response that
 * clears or replaces a cookie (sign-out, a re-issued session) does not change
 * who the next request is.
 */

export type ServerAction = { name: string; id: string; path: string };

/**
 * Every server action of the build under test, from Next's server manifest:
 * the client bundles hold the ids of client-imported actions only (an action
 * a server component passes down, like signOutAction, appears in the page's
 * RSC payload instead). `path` is a page whose worker holds the action.
 */
export function serverActionsOfBuild(): Map<string, ServerAction> {
  const manifest = JSON.parse(readFileSync(path.resolve(".next/server/server-reference-manifest.json"), "utf8")) as {
    node: Record<string, { exportedName: string; workers: Record<string, unknown> }>;
  };
  const actions = new Map<string, ServerAction>();
  for (const [id, entry] of Object.entries(manifest.node)) {
    const worker = Object.keys(entry.workers)[0]; // e.g. "app/(app)/admin/users/page"
    const route = worker.replace(/^app/, "").replace(/\/page$/, "").replace(/\/\([^)]+\)/g, "") || "/";
    actions.set(entry.exportedName, { name: entry.exportedName, id, path: route });
  }
  return actions;
}

/** Route handlers of the build under test ("/api/auth/[...nextauth]", …). */
export function routeHandlersOfBuild(): string[] {
  const manifest = JSON.parse(readFileSync(path.resolve(".next/server/app-paths-manifest.json"), "utf8")) as Record<string, string>;
  return Object.keys(manifest)
    .filter((key) => key.endsWith("/route"))
    .map((key) => key.replace(/\/route$/, "").replace(/\/\([^)]+\)/g, ""));
}

/** A value React's client would encode specially ("$undefined", "$n1", "$D…"): sent as is, not escaped. */
export class ReactEncoded {
  constructor(readonly encoded: string) {}
}

/** A form field: a string, the same name several times, or a file part; `undefined` leaves it out. */
export type FieldValue = string | string[] | { file: string };
export type Form = Record<string, FieldValue | undefined>;
export type Answer = { status: number; body: string; headers: Headers };

/**
 * React 19.3's reply encoding (encodeReply): the arguments as JSON in field
 * "0", strings starting with "$" escaped as "$$…", a FormData argument as
 * "$K1" with its fields under "_1_" (older React used "1_", which this one
 * ignores: the action would get an empty FormData). Well-formed, whatever the values.
 */
export function encodeArguments(before: unknown[], form: Form | null): FormData {
  const body = new FormData();
  const args = form ? [...before, new ReactEncoded("$K1")] : before;
  for (const [name, value] of Object.entries(form ?? {})) appendField(body, `_1_${name}`, value);
  // Last, as React's client does: the streaming decoder resolves "$K1" when it reads field "0",
  // from the "_1_" fields received so far — sent after it, they would be lost (an empty FormData).
  body.append(
    "0",
    JSON.stringify(args, (_key, value: unknown) => {
      if (value instanceof ReactEncoded) return value.encoded;
      if (typeof value === "string" && value.startsWith("$")) return `$${value}`;
      // As React encodes them: JSON would turn these into null, which some actions read as "all"
      // (Remove all trusted browsers) — a different call from the one the fuzz meant to send.
      if (typeof value === "number" && !Number.isFinite(value)) return Number.isNaN(value) ? "$NaN" : value > 0 ? "$Infinity" : "$-Infinity";
      return value;
    }),
  );
  return body;
}

export function appendField(body: FormData, name: string, value: FieldValue | undefined): void {
  if (value === undefined) return;
  if (typeof value === "string") body.append(name, value);
  else if (Array.isArray(value)) for (const v of value) body.append(name, v);
  else body.append(name, new Blob([value.file], { type: "application/octet-stream" }), "upload.bin");
}

export async function callAction(
  baseUrl: string,
  action: ServerAction,
  body: FormData,
  cookie: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(new URL(action.path, baseUrl), {
    method: "POST",
    headers: { ...headers, "Next-Action": action.id, Accept: "text/x-component", cookie },
    body,
    redirect: "manual",
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

export async function request(baseUrl: string, target: string, init: RequestInit & { cookie: string }): Promise<Answer> {
  const { cookie, ...rest } = init;
  const response = await fetch(new URL(target, baseUrl), {
    ...rest,
    headers: { ...(rest.headers as Record<string, string>), cookie },
    redirect: "manual",
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/** "a=1; b=2" from Set-Cookie headers (values only; attributes dropped). */
export function cookiesFrom(headers: Headers): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(";");
    const at = pair.indexOf("=");
    found.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
  }
  return found;
}

export function cookieHeader(cookies: Iterable<[string, string]>): string {
  return [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
}
