import "server-only";
import { generateRegistrationOptions, verifyRegistrationResponse, type PublicKeyCredentialCreationOptionsJSON, type RegistrationResponseJSON } from "@simplewebauthn/server";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database, Transaction } from "@/db";
import { securityKeys, sessions, totpCredentials, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { requireConfirmation, type AdminSession, type ConfirmationRequired } from "@/lib/admin/step-up";
import { notifySecurityKeyAdded, notifyTwoFactorEnabled } from "@/lib/notifications/notify";
import { getSettings } from "@/lib/settings";
import { endSessions, replaceRecoveryCodes } from "@/lib/two-factor/enrollment";
import { clearSecondFactorFailures } from "@/lib/two-factor/lockout";
import { generateRecoveryCodes } from "@/lib/two-factor/recovery-codes";
import { claimWebauthnChallenge, issueWebauthnChallenge } from "./challenges";
import { isCrossOrigin, relyingParty, SUPPORTED_ALGORITHMS, userHandleOf, WEBAUTHN_CHALLENGE_SECONDS } from "./relying-party";

export type KeyRegistrationError = "not_found" | "expired" | "invalid" | "already_registered" | "two_factor_off";

/** WebAuthn L3 §5.1: a credential id is at most 1023 bytes (1364 base64url characters). */
const MAX_CREDENTIAL_ID = 1364;
const base64url = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_-]+$/);
/** The shape of the browser's answer (navigator.credentials.create, as @simplewebauthn/browser sends it). */
const attestationSchema = z.object({
  id: base64url(MAX_CREDENTIAL_ID),
  rawId: base64url(MAX_CREDENTIAL_ID),
  type: z.literal("public-key"),
  response: z.object({
    clientDataJSON: base64url(8192),
    attestationObject: base64url(65536),
    transports: z.array(z.enum(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"])).max(8).optional(),
  }),
  clientExtensionResults: z.object({ credProps: z.object({ rk: z.boolean().optional() }).optional() }).loose().default({}),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
});

/**
 * Who may add a key: a signed-in user whose session is still live, on an
 * instance with two-factor authentication on (a key is a second factor, and
 * the first one turns 2FA on: finishKeyRegistration).
 */
async function mayAddKey(db: Database, session: AdminSession): Promise<"ok" | "not_found" | "two_factor_off"> {
  const [[row], settings] = await Promise.all([
    db.select({ sid: sessions.sid }).from(sessions).where(and(eq(sessions.sid, session.sessionId), eq(sessions.userId, session.id))),
    getSettings(db),
  ]);
  if (!row) return "not_found";
  return settings.twoFactorEnabled ? "ok" : "two_factor_off";
}

/**
 * Options for the browser's "create a passkey" prompt. Adding a factor is a
 * change to how the account signs in: this session must have confirmed (a
 * current code) within the last 5 minutes, as for an administrator's changes.
 * The user's keys are excluded, so one authenticator is not added twice; a
 * discoverable credential and user verification are preferred, not required
 * (a plain security key stays a second factor).
 */
export async function startKeyRegistration(
  db: Database,
  session: AdminSession,
): Promise<{ ok: true; options: PublicKeyCredentialCreationOptionsJSON } | ConfirmationRequired | { ok: false; error: "not_found" | "two_factor_off" }> {
  const refused = await requireConfirmation(db, session);
  if (refused) return refused;
  const allowed = await mayAddKey(db, session);
  if (allowed !== "ok") return { ok: false, error: allowed };
  const [user] = await db.select({ name: users.name, email: users.email }).from(users).where(eq(users.id, session.id));
  if (!user) return { ok: false, error: "not_found" };
  const keys = await db.select({ id: securityKeys.credentialId, transports: securityKeys.transports }).from(securityKeys).where(eq(securityKeys.userId, session.id));
  const rp = relyingParty();
  const challenge = await issueWebauthnChallenge(db, { purpose: "register", userId: session.id, sessionId: session.sessionId });
  if (!challenge) return { ok: false, error: "not_found" }; // the session was signed out a moment ago (its row is gone)
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.email,
    userDisplayName: user.name,
    userID: userHandleOf(session.id),
    challenge: isoBase64URL.toBuffer(challenge),
    timeout: WEBAUTHN_CHALLENGE_SECONDS * 1000,
    attestationType: "none",
    excludeCredentials: keys.map((key) => ({ id: key.id, transports: key.transports as never })),
    authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
    extensions: { credProps: true },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
  });
  return { ok: true, options };
}

/**
 * Verifies the browser's answer and stores the key, with its audit entry, in
 * one transaction, and tells the owner by mail. The challenge must be the one this session was given
 * (claimed once, whatever the verdict), the origin and RP ID ours; user
 * verification is recorded, not required. A credential already registered
 * (by anyone) is refused. The confirmation is checked again: it may have
 * lapsed while the prompt was open.
 */
export async function finishKeyRegistration(
  db: Database,
  session: AdminSession,
  answer: unknown,
  name: string,
  context: RequestContext,
): Promise<StoredKey | ConfirmationRequired | { ok: false; error: KeyRegistrationError }> {
  const refused = await requireConfirmation(db, session);
  if (refused) return refused;
  const allowed = await mayAddKey(db, session);
  if (allowed !== "ok") return { ok: false, error: allowed };
  const parsed = attestationSchema.safeParse(answer);
  if (!parsed.success || parsed.data.id !== parsed.data.rawId || isCrossOrigin(parsed.data.response.clientDataJSON)) return { ok: false, error: "invalid" };
  const response = parsed.data as RegistrationResponseJSON;
  const rp = relyingParty();
  const owner = { purpose: "register", userId: session.id, sessionId: session.sessionId } as const;
  let claimed = false;
  let verified;
  try {
    verified = await verifyRegistrationResponse({
      response,
      expectedChallenge: async (challenge) => (claimed = await claimWebauthnChallenge(db, challenge, owner)),
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: false,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
  } catch {
    return { ok: false, error: claimed ? "invalid" : "expired" };
  }
  if (!verified.verified) return { ok: false, error: "invalid" };
  const info = verified.registrationInfo;
  // The id the browser named must be the one the authenticator put in its signed data.
  if (info.credential.id !== response.id) return { ok: false, error: "invalid" };
  const discoverable = response.clientExtensionResults?.credProps?.rk;
  const stored = await db.transaction(async (tx): Promise<StoredKey | { ok: false; error: KeyRegistrationError }> => {
    // The user's row, locked: of two keys added at once by a user without 2FA, exactly one is the first factor.
    const firstFactor = await isFirstFactor(tx, session.id);
    const [key] = await tx
      .insert(securityKeys)
      .values({
        userId: session.id,
        credentialId: info.credential.id,
        publicKey: isoBase64URL.fromBuffer(info.credential.publicKey),
        counter: info.credential.counter,
        transports: info.credential.transports ?? [],
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
        userVerified: info.userVerified,
        discoverable: typeof discoverable === "boolean" ? discoverable : null,
        aaguid: info.aaguid,
        name,
      })
      .onConflictDoNothing({ target: securityKeys.credentialId })
      .returning({ id: securityKeys.id });
    if (!key) return { ok: false, error: "already_registered" } as const;
    const who = { actorUserId: session.id, targetUserId: session.id };
    await recordEvent(tx, "security_key.added", who, context, { name, synced: info.credentialDeviceType === "multiDevice", userVerified: info.userVerified });
    if (!firstFactor) return { ok: true, id: key.id, firstFactor: null };
    return { ok: true, id: key.id, firstFactor: await turnTwoFactorOn(tx, session.id, context) };
  });
  if (!stored.ok) return stored;
  await notifySecurityKeyAdded(db, session.id, name, context);
  if (stored.firstFactor) await notifyTwoFactorEnabled(db, session.id, context);
  return stored;
}

/** `firstFactor`: this key turned two-factor authentication on — the recovery codes (shown once) and the new session version. */
type StoredKey = { ok: true; id: string; firstFactor: { recoveryCodes: string[]; sessionVersion: number } | null };

async function isFirstFactor(tx: Transaction, userId: string): Promise<boolean> {
  await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for("no key update");
  const [totp] = await tx.select({ enabledAt: totpCredentials.enabledAt }).from(totpCredentials).where(eq(totpCredentials.userId, userId));
  const [key] = await tx.select({ id: securityKeys.id }).from(securityKeys).where(eq(securityKeys.userId, userId)).limit(1);
  return !totp?.enabledAt && !key;
}

/**
 * The first second factor turns 2FA on, as a confirmed authenticator app
 * does (lib/two-factor/enrollment.ts): recovery codes are created, an admin's
 * requirement is met, other sessions and pending sign-ins end.
 */
async function turnTwoFactorOn(tx: Transaction, userId: string, context: RequestContext) {
  const recoveryCodes = generateRecoveryCodes();
  await tx.update(users).set({ twoFactorRequired: false }).where(eq(users.id, userId));
  await replaceRecoveryCodes(tx, userId, recoveryCodes);
  const sessionVersion = await endSessions(tx, userId);
  await clearSecondFactorFailures(tx, userId);
  await recordEvent(tx, "two_factor.enabled", { actorUserId: userId, targetUserId: userId }, context, { factor: "security_key" });
  return { recoveryCodes, sessionVersion };
}
