import "server-only";
import { decryptSecret } from "@/lib/crypto";

/**
 * A user's TOTP secret, or null when it cannot be decrypted — a wrong
 * TOTP_ENCRYPTION_KEY, or a ciphertext moved from another user's row (the
 * user id is its associated data). Callers treat null as a failed check
 * (counted), never as an exception (a 500). The secret itself is never logged.
 */
export function readTotpSecret(ciphertext: string, userId: string): string | null {
  try {
    return decryptSecret(ciphertext, userId);
  } catch {
    console.error(`[two-factor] the TOTP secret of user ${userId} cannot be decrypted (wrong TOTP_ENCRYPTION_KEY?)`);
    return null;
  }
}
