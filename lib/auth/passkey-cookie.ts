import "server-only";
import { cookies } from "next/headers";
import { secureCookies } from "@/lib/auth/cookie-security";
import { WEBAUTHN_CHALLENGE_SECONDS } from "@/lib/security-keys/relying-party";

/**
 * The challenge of a passkey sign-in, held by the browser that asked for it:
 * an assertion over it counts only in that browser's request. Scoped to
 * /login (where it is asked for and answered), HttpOnly, SameSite=Strict.
 */
const PASSKEY_COOKIE = "passkey-challenge";
const OPTIONS = { httpOnly: true, sameSite: "strict" as const, path: "/login", maxAge: WEBAUTHN_CHALLENGE_SECONDS };

export async function setPasskeyCookie(challenge: string): Promise<void> {
  (await cookies()).set(PASSKEY_COOKIE, challenge, { ...OPTIONS, secure: await secureCookies() });
}

export async function readPasskeyCookie(): Promise<string> {
  return (await cookies()).get(PASSKEY_COOKIE)?.value ?? "";
}

export async function clearPasskeyCookie(): Promise<void> {
  (await cookies()).delete({ name: PASSKEY_COOKIE, path: OPTIONS.path });
}
