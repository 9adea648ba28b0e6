import { NextResponse, type NextRequest } from "next/server";

/**
 * Convenience only: sends visitors without any session cookie to /login
 * before rendering. Every page, action and route handler checks the session
 * itself; removing this file must not open anything.
 */
export function proxy(request: NextRequest) {
  // The attack suite starts a server with PROXY_BYPASS=1 to show that nothing opens without this file.
  if (process.env.PROXY_BYPASS === "1") return NextResponse.next();
  const hasSession = request.cookies.getAll().some((c) => c.name.endsWith("authjs.session-token"));
  if (hasSession) return NextResponse.next();
  const url = request.nextUrl.clone();
  url.pathname = "/login";
  url.search = `?callbackUrl=${encodeURIComponent(request.nextUrl.pathname + request.nextUrl.search)}`;
  return NextResponse.redirect(url);
}

export const config = {
  matcher: ["/((?!login|setup|api/|_next/|favicon.ico|icon.svg).*)"],
};
