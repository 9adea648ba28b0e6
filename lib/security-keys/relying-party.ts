import "server-only";

/** Shown by the browser's prompt. */
const RP_NAME = "Two-factor sign-in";

/**
 * The relying party: the ID and origin every key is registered for and every
 * assertion must come from. From AUTH_URL (or APP_URL), never from request
 * headers, which a client writes; unset, the address `npm start` prints.
 */
export function relyingParty(): { id: string; origin: string; name: string } {
  const url = new URL(process.env.AUTH_URL || process.env.APP_URL || `http://localhost:${process.env.PORT || 3000}`);
  return { id: url.hostname, origin: url.origin, name: RP_NAME };
}

/** ES256, EdDSA and RS256: what security keys, platform authenticators and Windows Hello sign with. */
export const SUPPORTED_ALGORITHMS = [-7, -8, -257];

/** How long the browser's prompt may take, and how long its challenge lives. */
export const WEBAUTHN_CHALLENGE_SECONDS = 5 * 60;

/** The WebAuthn user handle of an account: its id's 16 bytes, never the email (it is stored on the key). */
export function userHandleOf(userId: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(Buffer.from(userId.replace(/-/g, ""), "hex"));
}

/** clientDataJSON's crossOrigin flag: true when the ceremony ran in a frame of another origin. */
export function isCrossOrigin(clientDataJSON: string): boolean {
  try {
    return (JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8")) as { crossOrigin?: unknown }).crossOrigin === true;
  } catch {
    return true; // unreadable: the library refuses it anyway
  }
}
