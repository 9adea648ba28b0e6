import "server-only";
import { generateAuthenticationOptions, type PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import { eq } from "drizzle-orm";
import type { Database } from "@/db";
import { users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import type { SignedInUser } from "@/lib/auth/second-step";
import { reserveAttempt, type RateLimit } from "@/lib/rate-limit";
import { getSettings } from "@/lib/settings";
import { recordKeyUse, verifyKeyAssertion } from "./assertion";
import { issuePasskeyChallenge } from "./challenges";
import { relyingParty, WEBAUTHN_CHALLENGE_SECONDS } from "./relying-party";

/**
 * Prompts one address may ask for in 10 minutes: each /login view with
 * passkey autofill asks once, and nobody is known yet to bound it by.
 */
const PROMPTS_PER_IP = 300;
const promptLimit = (ip: string): RateLimit => ({ key: `passkey:ip:${ip}`, limit: PROMPTS_PER_IP, windowSeconds: 10 * 60 });

export type PasskeyError = "not_allowed" | "rate_limited" | "invalid" | "not_a_passkey";

/**
 * Sign in with a passkey, step 1: a challenge for the browser's prompt, with
 * no allowed credentials (the authenticator offers the passkeys it holds for
 * this site) and user verification required. The caller keeps the challenge
 * in the browser's cookie: only that browser may use it.
 */
export async function startPasskeySignIn(
  db: Database,
  context: RequestContext,
): Promise<{ ok: true; challenge: string; options: PublicKeyCredentialRequestOptionsJSON } | { ok: false; error: "not_allowed" | "rate_limited" }> {
  const settings = await getSettings(db);
  if (!settings.passkeySignInEnabled) return { ok: false, error: "not_allowed" };
  if (context.ip && !(await reserveAttempt(db, promptLimit(context.ip)))) return { ok: false, error: "rate_limited" };
  const challenge = await issuePasskeyChallenge(db);
  const options = await generateAuthenticationOptions({
    rpID: relyingParty().id,
    challenge: isoBase64URL.toBuffer(challenge),
    allowCredentials: [],
    userVerification: "required",
    timeout: WEBAUTHN_CHALLENGE_SECONDS * 1000,
  });
  return { ok: true, challenge, options };
}

/**
 * Sign in with a passkey, step 2, called only from Auth.js `authorize()`:
 * the assertion must sign this browser's challenge (`challenge`, from its
 * cookie; used once), with user verification, by a key registered as a
 * passkey — discoverable and verifying its user — which then stands for
 * both factors (NIST SP 800-63B-4 §3.1.7: a multi-factor cryptographic
 * authenticator). Another key stays a second factor only. Not counted in
 * the second step's lockout: a signature cannot be guessed, and an
 * attacker's failures must not lock the owner's passkey out.
 */
export async function completePasskeySignIn(
  db: Database,
  input: { challenge: string; assertion: unknown },
  context: RequestContext,
): Promise<{ ok: true; user: SignedInUser } | { ok: false; error: PasskeyError }> {
  const settings = await getSettings(db);
  if (!settings.passkeySignInEnabled) return { ok: false, error: "not_allowed" };
  if (!input.challenge || input.challenge.length > 100) return { ok: false, error: "invalid" };
  const verdict = await verifyKeyAssertion(db, null, input.assertion, { purpose: "passkey", challenge: input.challenge }, { requireUserVerification: true });
  if (!verdict.ok) {
    await recordEvent(db, verdict.regressed ? "security_key.counter_regressed" : "security_key.refused", {}, context, { during: "passkey_sign_in" });
    return { ok: false, error: "invalid" };
  }
  const { key } = verdict;
  const who = { actorUserId: key.userId, targetUserId: key.userId };
  if (!key.discoverable || !key.userVerified) {
    await recordEvent(db, "security_key.refused", who, context, { name: key.name, during: "passkey_sign_in", reason: "not_a_passkey" });
    return { ok: false, error: "not_a_passkey" };
  }
  const user = await db.transaction(async (tx) => {
    if (!(await recordKeyUse(tx, verdict))) return null; // a parallel assertion of this device-bound key got here first
    const [row] = await tx.select().from(users).where(eq(users.id, key.userId));
    if (!row) return null;
    await recordEvent(tx, "security_key.used", who, context, { name: key.name, userVerified: true, during: "passkey_sign_in" });
    await recordEvent(tx, "sign_in.succeeded", who, context, { factor: "passkey" });
    return row;
  });
  if (!user) return { ok: false, error: "invalid" };
  return { ok: true, user: { id: user.id, name: user.name, email: user.email, role: user.role, sessionVersion: user.sessionVersion } };
}
