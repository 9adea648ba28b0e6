import "server-only";
import { secureCookiesFor } from "@/lib/auth/cookie-security";

/**
 * The response headers that depend on the request: a Content-Security-Policy
 * with a fresh nonce, and HSTS when the site is served over https. proxy.ts
 * sets them; the ones that are the same for every response (nosniff,
 * Referrer-Policy, Permissions-Policy) live in next.config.js, which also
 * covers the static files the proxy does not run for.
 */

/** 2 years, in seconds: the value the HSTS preload list asks for (hstspreload.org). */
const HSTS_MAX_AGE_SECONDS = 63_072_000;

/** 128 random bits, base64: a nonce must be unguessable and new for every response (CSP Level 3 §7.1). */
export function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

/**
 * A strict policy (web.dev/strict-csp): scripts run only with this response's nonce, and
 * 'strict-dynamic' lets those load Next's chunks; 'self' is ignored beside it by current
 * browsers and kept for older ones. Next reads the nonce from this header on the request
 * and puts it on its own scripts (docs: "Content Security Policy", Next 16).
 * - img-src data: the enrollment QR code is an SVG data URL.
 * - style-src: Tailwind's stylesheet, and inline styles only with the nonce (Next adds it
 *   to any it renders); style attributes in the markup are refused (nothing here writes one).
 * - Development only: 'unsafe-eval' (React rebuilds server stacks with eval) and inline styles
 *   without a nonce (Next's dev overlay injects them: vercel/next.js#86188). A nonce would make
 *   the browser ignore 'unsafe-inline', so development drops it from style-src.
 */
export function contentSecurityPolicy(nonce: string, development = false): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${development ? " 'unsafe-eval'" : ""}`,
    `style-src 'self' ${development ? "'unsafe-inline'" : `'nonce-${nonce}'`}`,
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * Strict-Transport-Security when the response goes out over https, by the same rule as
 * the cookies' Secure flag (lib/auth/cookie-security.ts). A client faking
 * X-Forwarded-Proto on plain http gains nothing: browsers ignore HSTS there (RFC 6797 §8.1).
 */
export function strictTransportSecurity(requestHeaders: Headers): string | null {
  return secureCookiesFor(requestHeaders) ? `max-age=${HSTS_MAX_AGE_SECONDS}; includeSubDomains` : null;
}

/** Everything proxy.ts adds for one request: the nonce'd policy and, over https, HSTS. */
export function requestSecurityHeaders(requestHeaders: Headers, nonce: string): Record<string, string> {
  const headers: Record<string, string> = {
    "Content-Security-Policy": contentSecurityPolicy(nonce, process.env.NODE_ENV === "development"),
  };
  const hsts = strictTransportSecurity(requestHeaders);
  if (hsts) headers["Strict-Transport-Security"] = hsts;
  return headers;
}
