import "server-only";
import { cookies } from "next/headers";
import { secureCookies } from "@/lib/auth/cookie-security";
import { CHALLENGE_COOKIE, CHALLENGE_TTL_SECONDS } from "@/lib/auth/challenge";

// Scoped to /login (where both steps post), HttpOnly, SameSite=Strict:
// no script and no other site can read or send it.
const OPTIONS = { httpOnly: true, sameSite: "strict" as const, path: "/login", maxAge: CHALLENGE_TTL_SECONDS };

export async function setChallengeCookie(token: string): Promise<void> {
  (await cookies()).set(CHALLENGE_COOKIE, token, { ...OPTIONS, secure: await secureCookies() });
}

export async function readChallengeCookie(): Promise<string> {
  return (await cookies()).get(CHALLENGE_COOKIE)?.value ?? "";
}

export async function clearChallengeCookie(): Promise<void> {
  (await cookies()).delete({ name: CHALLENGE_COOKIE, path: OPTIONS.path });
}
