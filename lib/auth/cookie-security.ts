import "server-only";
import { headers } from "next/headers";

/**
 * Whether our own cookies (challenge, trusted browser) get `Secure`. Auth.js
 * marks its session cookie Secure when the request arrived over https (it
 * trusts X-Forwarded-Proto behind a proxy); ours follow the same rule, plus
 * an https AUTH_URL or COOKIE_SECURE=true. A client can only make its own
 * cookies stricter with the header, never weaker.
 */
export async function secureCookies(): Promise<boolean> {
  if ((process.env.AUTH_URL ?? "").startsWith("https://") || process.env.COOKIE_SECURE === "true") return true;
  const proto = (await headers()).get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  return proto === "https";
}
