import "server-only";
import { generateAuthenticationOptions, type PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import { eq } from "drizzle-orm";
import type { Database } from "@/db";
import { securityKeys } from "@/db/schema";
import { findChallenge } from "@/lib/auth/challenge";
import { sha256Hex } from "@/lib/crypto";
import { issueWebauthnChallenge } from "./challenges";
import { relyingParty, WEBAUTHN_CHALLENGE_SECONDS } from "./relying-party";

/**
 * Use security key, at the second step: the browser's prompt for this
 * pending sign-in. Only the user's own keys are allowed, and the challenge
 * belongs to this sign-in challenge (it dies with it, and is used once:
 * lib/auth/factors/security-key.ts). User verification is preferred, not
 * required: a key is the second factor here, the password was the first.
 */
export async function startKeySignIn(
  db: Database,
  signInChallenge: string,
): Promise<{ ok: true; options: PublicKeyCredentialRequestOptionsJSON } | { ok: false; error: "challenge_expired" | "no_keys" }> {
  const challenge = await findChallenge(db, signInChallenge);
  if (!challenge || challenge.purpose !== "sign_in") return { ok: false, error: "challenge_expired" };
  const prompt = await promptForOwnKeys(db, { purpose: "sign_in", userId: challenge.userId, signInChallengeHash: sha256Hex(signInChallenge) });
  if (prompt === "gone") return { ok: false, error: "challenge_expired" }; // it ended a moment ago
  return prompt === "no_keys" ? { ok: false, error: "no_keys" } : { ok: true, options: prompt };
}

/**
 * The prompt for one of the user's own keys (the second step, or a
 * confirmation): only their credentials allowed, user verification preferred,
 * a challenge bound to its owner. "gone": the owner's row (the pending
 * sign-in, or the session) ended a moment ago.
 */
export async function promptForOwnKeys(
  db: Database,
  owner: { purpose: "sign_in"; userId: string; signInChallengeHash: string } | { purpose: "step_up"; userId: string; sessionId: string },
): Promise<PublicKeyCredentialRequestOptionsJSON | "no_keys" | "gone"> {
  const keys = await db.select({ id: securityKeys.credentialId, transports: securityKeys.transports }).from(securityKeys).where(eq(securityKeys.userId, owner.userId));
  if (keys.length === 0) return "no_keys";
  const challenge = await issueWebauthnChallenge(db, owner);
  if (!challenge) return "gone";
  return generateAuthenticationOptions({
    rpID: relyingParty().id,
    challenge: isoBase64URL.toBuffer(challenge),
    allowCredentials: keys.map((key) => ({ id: key.id, transports: key.transports as never })),
    userVerification: "preferred",
    timeout: WEBAUTHN_CHALLENGE_SECONDS * 1000,
  });
}

