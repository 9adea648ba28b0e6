import "server-only";
import { secureCookiesFor } from "@/lib/auth/cookie-security";

/** Larger than any sign-in form (email 254, password 1024, callbackUrl 2048 characters). */
export const JSON_BODY_MAX_BYTES = 8 * 1024;

/** `form`: the browser posted the HTML form itself (JavaScript off); it is answered with a redirect. */
export type StepRequest = { ok: true; body: Record<string, unknown>; form: boolean } | { ok: false; response: Response };

/**
 * What a sign-in step's route handler reads, with the checks a server action
 * gets from Next and a route handler must do itself, before anything else:
 * - same origin: the Origin header names this host (a browser always sends
 *   it on a POST), and Sec-Fetch-Site, when sent, says same-origin. This is
 *   the CSRF defence, as for server actions (login CSRF included);
 * - `Content-Type: application/json` from the page's script, or — with
 *   JavaScript off — the page's own form (`application/x-www-form-urlencoded`).
 *   A cross-site form can send the latter without a preflight, so for forms
 *   the Origin check above is the whole defence, as Next relies on it for
 *   server actions posted without JavaScript; nothing else is taken;
 * - a bounded body read as a stream, so a huge or endless body costs at most
 *   JSON_BODY_MAX_BYTES of memory;
 * - JSON: an object, never an array or a scalar.
 */
export async function readStepRequest(request: Request): Promise<StepRequest> {
  if (!isSameOrigin(request.headers)) return refuse(403, "This request must come from the sign-in page of this site.");
  const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  const form = type === "application/x-www-form-urlencoded";
  if (type !== "application/json" && !form) return refuse(415, "Send the form as application/json.");
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > JSON_BODY_MAX_BYTES) return refuse(413, "The request is too large.");
  const text = await readCapped(request, JSON_BODY_MAX_BYTES);
  if (text === null) return refuse(413, "The request is too large.");
  if (form) return { ok: true, body: Object.fromEntries(new URLSearchParams(text)), form: true };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return refuse(400, "The request was not valid.");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return refuse(400, "The request was not valid.");
  return { ok: true, body: body as Record<string, unknown>, form: false };
}

/**
 * Compares hosts the way Next compares them for server actions: the Origin's
 * host against X-Forwarded-Host (set by the proxy in front, if any) or Host.
 */
export function isSameOrigin(headers: Headers): boolean {
  const site = headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return false;
  const origin = headers.get("origin");
  if (!origin || origin === "null") return false;
  let originHost: string;
  try {
    const url = new URL(origin);
    // An https site is not posted to by its own pages over http: that page is a network attacker's (a browser
    // without Sec-Fetch-Site would not say so). Only where https is known (lib/auth/cookie-security.ts).
    if (url.protocol !== "https:" && secureCookiesFor(headers)) return false;
    originHost = url.host;
  } catch {
    return false;
  }
  const host = headers.get("x-forwarded-host")?.split(",")[0]?.trim() || headers.get("host");
  return !!host && originHost === host.toLowerCase();
}

async function readCapped(request: Request, maxBytes: number): Promise<string | null> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(Buffer.concat(chunks));
}

/**
 * A JSON answer no cache keeps. `no-transform` also keeps Next's compression
 * off it: these answers are a few dozen bytes, and Next would otherwise gzip
 * each through a new zlib stream (~5 % of the server's CPU on the code step).
 */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store, no-transform" },
  });
}

function refuse(status: number, message: string): { ok: false; response: Response } {
  return { ok: false, response: json({ status: "error", message }, status) };
}
