import "server-only";
import { cookies } from "next/headers";
import { secureCookies } from "@/lib/auth/cookie-security";
import { TRUST_COOKIE, TRUST_DAYS_MAX } from "@/lib/two-factor/trusted-browsers";


/**
 * HttpOnly, SameSite=Lax, Secure on https. The cookie may outlive the trust:
 * the database decides (expiry, the admin's current number of days).
 */
export async function setTrustCookie(token: string): Promise<void> {
  (await cookies()).set(TRUST_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: await secureCookies(),
    path: "/",
    maxAge: TRUST_DAYS_MAX * 24 * 60 * 60,
  });
}

export async function readTrustCookie(): Promise<string> {
  return (await cookies()).get(TRUST_COOKIE)?.value ?? "";
}
