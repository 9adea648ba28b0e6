import { NextResponse, type NextRequest } from "next/server";
import { newNonce, requestSecurityHeaders } from "@/lib/security-headers";

/**
 * Two jobs, both cheap (this runs on every request but static files: no database).
 * 1. Security headers: a fresh CSP nonce on every page, the 404 and error pages included.
 *    The policy goes on the request too, which is where Next reads the nonce for its scripts.
 * 2. Convenience only: sends visitors without any session cookie to /login before rendering.
 *    Every page, action and route handler checks the session itself; removing the redirect
 *    must not open anything.
 */
export function proxy(request: NextRequest) {
  const security = requestSecurityHeaders(request.headers, newNonce());
  const forwarded = new Headers(request.headers);
  forwarded.set("Content-Security-Policy", security["Content-Security-Policy"]);
  const response = redirectToLogin(request) ?? NextResponse.next({ request: { headers: forwarded } });
  for (const [name, value] of Object.entries(security)) response.headers.set(name, value);
  return response;
}

// The paths the proxy never redirected (its matcher excluded them before it also set headers).
const NEVER_REDIRECTED = /^\/(?:login|setup|api\/|_next\/|favicon\.ico|icon\.svg)/;

function redirectToLogin(request: NextRequest): NextResponse | null {
  // The attack suite starts a server with PROXY_BYPASS=1 to show that nothing opens without the
  // redirect. The headers stay: the switch is about who guards pages, not about the policy.
  if (process.env.PROXY_BYPASS === "1") return null;
  if (NEVER_REDIRECTED.test(request.nextUrl.pathname)) return null;
  const hasSession = request.cookies.getAll().some((c) => c.name.endsWith("authjs.session-token"));
  if (hasSession) return null;
  const url = request.nextUrl.clone();
  url.pathname = "/login";
  url.search = `?callbackUrl=${encodeURIComponent(request.nextUrl.pathname + request.nextUrl.search)}`;
  return NextResponse.redirect(url);
}

export const config = {
  // Every path but the build's hashed static files and the JSON sign-in steps and liveness probe, which are
  // never HTML (nothing there for a policy to guard, nothing to redirect) and are the busiest requests: the
  // proxy costs about a tenth of a code step (docs/PERFORMANCE.md). Exact paths only: any other path under
  // /login or /api, such as a 404 page, still gets its headers.
  matcher: ["/((?!_next/static/|_next/image|login/(?:password|code|passkey)$|api/health/live$).*)"],
};
