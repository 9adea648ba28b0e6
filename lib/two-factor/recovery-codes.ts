import "server-only";
import { randomInt } from "node:crypto";
import { sha256Hex } from "@/lib/crypto";

export const RECOVERY_CODE_COUNT = 10;
// Crockford base32: no i, l, o, u, so codes read aloud or copied by hand survive.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
/** 16 characters × 5 bits = 80 random bits per code (≥ 64 required by NIST SP 800-63B-4 §3.1.2). */
const CODE_LENGTH = 16;

/** A new set of codes, formatted for people: `abcd-efgh-jkmn-pqrs`. */
export function generateRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const raw = Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
    return raw.match(/.{4}/g)!.join("-");
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

export function isWellFormedRecoveryCode(normalised: string): boolean {
  return normalised.length === CODE_LENGTH && [...normalised].every((c) => ALPHABET.includes(c));
}

/**
 * Stored form of a code. The codes carry 80 random bits, so a fast hash is
 * enough; the user id salts it so equal hashes never link two users.
 */
export function hashRecoveryCode(userId: string, normalised: string): string {
  return sha256Hex(`${userId}:${normalised}`);
}
