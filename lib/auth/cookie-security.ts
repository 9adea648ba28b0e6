import "server-only";
import { headers } from "next/headers";

/**
 * Whether cookies get `Secure` (and Auth.js's the __Secure- prefix): when the
 * request arrived over https (X-Forwarded-Proto from the proxy in front), or
 * AUTH_URL is https, or COOKIE_SECURE=true. One rule for Auth.js's cookies
 * and ours (challenge, trusted browser), so that an AUTH_URL left at http
 * behind a TLS proxy does not quietly send the session cookie in clear. A
 * client can only make its own cookies stricter with the header.
 */
export function secureCookiesFor(requestHeaders: Headers | null): boolean {
  if ((process.env.AUTH_URL ?? "").startsWith("https://") || process.env.COOKIE_SECURE === "true") return true;
  const proto = requestHeaders?.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  return proto === "https";
}

/** The same, for the request being handled. */
export async function secureCookies(): Promise<boolean> {
  return secureCookiesFor(await headers());
}
