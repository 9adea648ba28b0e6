import "server-only";
import { cookies } from "next/headers";
import { secureCookies } from "@/lib/auth/cookie-security";
import { KNOWN_DEVICE_COOKIE, KNOWN_DEVICE_MAX_AGE_SECONDS } from "@/lib/auth/known-device";

// Read only by the password step (POST /login/password): scoped to /login, HttpOnly, SameSite=Strict.
const OPTIONS = { httpOnly: true, sameSite: "strict" as const, path: "/login", maxAge: KNOWN_DEVICE_MAX_AGE_SECONDS };

export async function setKnownDeviceCookie(value: string): Promise<void> {
  (await cookies()).set(KNOWN_DEVICE_COOKIE, value, { ...OPTIONS, secure: await secureCookies() });
}

export async function readKnownDeviceCookie(): Promise<string> {
  return (await cookies()).get(KNOWN_DEVICE_COOKIE)?.value ?? "";
}
