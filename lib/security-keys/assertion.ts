import "server-only";
import { verifyAuthenticationResponse, type AuthenticationResponseJSON } from "@simplewebauthn/server";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "@/db";
import { securityKeys } from "@/db/schema";
import { claimWebauthnChallenge, type ChallengeOwner } from "./challenges";
import { isCrossOrigin, relyingParty, userHandleOf } from "./relying-party";

const base64url = z.string().min(1).max(4096).regex(/^[A-Za-z0-9_-]+$/);
/** The shape of the browser's answer (navigator.credentials.get, as @simplewebauthn/browser sends it). */
const assertionSchema = z.object({
  id: base64url.max(1024),
  rawId: base64url.max(1024),
  type: z.literal("public-key"),
  response: z.object({
    clientDataJSON: base64url,
    authenticatorData: base64url,
    signature: base64url,
    userHandle: base64url.optional(),
  }),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
});

export type SecurityKeyRow = typeof securityKeys.$inferSelect;
/** A verified assertion: the key that signed it and what the signature said. */
export type KeyAssertion = { key: SecurityKeyRow; newCounter: number; userVerified: boolean; backedUp: boolean };
/** `regressed`: the signature was the key's, but a device-bound key's counter went backwards (a cloned key). */
export type KeyAssertionRefusal = { ok: false; regressed: boolean };

/**
 * Does this assertion prove a key of this user (or, for a passkey sign-in,
 * `userId` null, of whichever user the key belongs to)? It must sign the
 * WebAuthn challenge its owner was given (claimed once, whatever the
 * verdict); a credential of another account, or a user handle that is not
 * the key's user, is refused. Origin and RP ID are ours (AUTH_URL), and an
 * assertion made inside another site's frame is refused. A device-bound
 * key's counter must grow (or stay 0, for keys that keep none); a synced
 * key's is not judged (synced passkeys report 0 or diverge between devices).
 */
export async function verifyKeyAssertion(
  db: Executor,
  userId: string | null,
  answer: unknown,
  owner: ChallengeOwner,
  options: { requireUserVerification: boolean } = { requireUserVerification: false },
): Promise<({ ok: true } & KeyAssertion) | KeyAssertionRefusal> {
  const refused = { ok: false, regressed: false } as const;
  const parsed = assertionSchema.safeParse(answer);
  if (!parsed.success) return refused;
  const assertion = parsed.data as AuthenticationResponseJSON;
  const sameUser = userId === null ? sql`true` : eq(securityKeys.userId, userId);
  const [key] = await db.select().from(securityKeys).where(and(eq(securityKeys.credentialId, assertion.id), sameUser));
  if (!key) return refused;
  const handle = assertion.response.userHandle;
  if ((handle || userId === null) && handle !== isoBase64URL.fromBuffer(userHandleOf(key.userId))) return refused;
  if (isCrossOrigin(assertion.response.clientDataJSON)) return refused;
  const rp = relyingParty();
  let verdict;
  try {
    verdict = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: (challenge) => claimWebauthnChallenge(db, challenge, owner),
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      // The counter is judged below, once the signature is known to be the key's: a forged assertion's
      // counter must not raise a regression alarm.
      credential: { id: key.credentialId, publicKey: isoBase64URL.toBuffer(key.publicKey), counter: 0 },
      requireUserVerification: options.requireUserVerification,
    });
  } catch {
    return refused;
  }
  if (!verdict.verified) return refused;
  const { newCounter, userVerified, credentialBackedUp } = verdict.authenticationInfo;
  const synced = key.deviceType === "multiDevice";
  if (!synced && (key.counter > 0 || newCounter > 0) && newCounter <= key.counter) return { ok: false, regressed: true };
  return { ok: true, key, newCounter, userVerified, backedUp: credentialBackedUp };
}

/**
 * Records the key's use: counter, backup state, last used. Compare-and-set:
 * a parallel assertion of the same device-bound key that got here first
 * leaves a higher counter, and this one is then refused (false).
 */
export async function recordKeyUse(db: Executor, { key, newCounter, backedUp }: KeyAssertion): Promise<boolean> {
  const synced = key.deviceType === "multiDevice";
  const grows = synced || newCounter === 0 ? sql`true` : sql`${securityKeys.counter} < ${newCounter}`;
  const used = await db
    .update(securityKeys)
    .set({ counter: newCounter, backedUp, lastUsedAt: sql`now()` })
    .where(and(eq(securityKeys.id, key.id), grows))
    .returning({ id: securityKeys.id });
  return used.length === 1;
}
