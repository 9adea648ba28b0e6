import "server-only";
import { randomInt } from "node:crypto";
import { sha256Hex } from "@/lib/crypto";

export const RECOVERY_CODE_COUNT = 10;
// Crockford base32: no i, l, o, u, so codes read aloud or copied by hand survive.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
/**
 * 24 characters × 5 bits = 120 random bits per code. NIST SP 800-63B-4
 * §3.1.2.1: a look-up secret of at least 112 bits may be stored under a plain
 * one-way hash; below that it would need a password-hashing scheme.
 */
export const RECOVERY_CODE_LENGTH = 24;
/** Codes handed out before 120-bit codes (80 bits); they keep working until used or replaced. */
const LEGACY_CODE_LENGTH = 16;
const GROUP_LENGTH = 4;

/** A new set of codes, formatted for people in groups of four: `abcd-efgh-jkmn-pqrs-tvwx-yz01`. */
export function generateRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const raw = Array.from({ length: RECOVERY_CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
    return raw.match(new RegExp(`.{${GROUP_LENGTH}}`, "g"))!.join("-");
  });
}

/** Case, spaces and dashes do not matter; Crockford's look-alikes (o→0, i/l→1) are folded. */
export function normaliseRecoveryCode(input: string): string {
  return input
    .toLowerCase()
    .replace(/[\s\-\u00a0]/g, "")
    .replace(/o/g, "0")
    .replace(/[il]/g, "1");
}

/** A code of today's length or of the older 16-character one, in the alphabet. */
export function isWellFormedRecoveryCode(normalised: string): boolean {
  return (
    (normalised.length === RECOVERY_CODE_LENGTH || normalised.length === LEGACY_CODE_LENGTH) &&
    [...normalised].every((c) => ALPHABET.includes(c))
  );
}

/**
 * Stored form of a code: SHA-256, the same for both lengths, so the rows of
 * older codes still match. New codes carry 120 random bits, enough for a fast
 * hash (§3.1.2.1); the older 80-bit ones are single-use, rate limited with
 * TOTP on one counter, and go when used or replaced. The user id salts the
 * hash so equal hashes never link two users.
 */
export function hashRecoveryCode(userId: string, normalised: string): string {
  return sha256Hex(`${userId}:${normalised}`);
}
