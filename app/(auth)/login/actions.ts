"use server";
import { redirect } from "next/navigation";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { clearChallengeCookie, readChallengeCookie } from "@/lib/auth/challenge-cookie";
import { getDb } from "@/lib/db";
import { startKeySignIn } from "@/lib/security-keys/sign-in";
import { setPasskeyCookie } from "@/lib/auth/passkey-cookie";
import { requestContext } from "@/lib/request-context";
import { startPasskeySignIn } from "@/lib/security-keys/passkey-sign-in";
import { MESSAGES } from "@/lib/validation/messages";

// Both sign-in steps are route handlers (./password, ./code); what is left here is leaving a sign-in, and the
// security key's prompt.

/** Forgets the challenge without navigating (the caller reloads the sign-in page). */
export async function abandonSignInAction(): Promise<void> {
  await clearChallengeCookie();
}

/** Leaves the code step: forget the challenge, back to email and password. */
export async function cancelSignInAction(): Promise<void> {
  await clearChallengeCookie();
  redirect("/login");
}

/**
 * Use security key: the options for the browser's prompt, for the pending
 * sign-in in this browser's challenge cookie (only that user's keys, a
 * WebAuthn challenge bound to that sign-in). Who may call: anyone holding a
 * live challenge cookie, i.e. who got the password right.
 */
export async function securityKeyOptionsAction(): Promise<
  { ok: true; options: PublicKeyCredentialRequestOptionsJSON } | { ok: false; error: "challenge_expired" | "no_keys" }
> {
  const challenge = await readChallengeCookie();
  if (!challenge) return { ok: false, error: "challenge_expired" };
  return startKeySignIn(await getDb(), challenge);
}

/**
 * Sign in with a passkey: the options for the browser's prompt (or its
 * autofill), and the challenge kept in this browser's cookie. Who may call:
 * anyone, when the instance allows passkey sign-in; limited per address.
 */
export async function passkeyOptionsAction(): Promise<{ ok: true; options: PublicKeyCredentialRequestOptionsJSON } | { ok: false; message: string }> {
  const started = await startPasskeySignIn(await getDb(), await requestContext());
  if (!started.ok) return { ok: false, message: started.error === "rate_limited" ? MESSAGES.tooManyAttempts : MESSAGES.passkeyOff };
  await setPasskeyCookie(started.challenge);
  return { ok: true, options: started.options };
}
