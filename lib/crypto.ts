import "server-only";
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { secrets } from "@/lib/env";

/** A random token of `bytes` bytes, base64url (URL- and cookie-safe). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** Constant-time string equality; length is not secret here (all compared values are fixed-length). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Short id of a key, stored beside the ciphertext so rotated keys can still decrypt. */
function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

/** Whether `stored` was encrypted with the newest key (the first of TOTP_ENCRYPTION_KEY). */
export function isEncryptedWithNewestKey(stored: string): boolean {
  return stored.split(".")[1] === keyId(secrets().totpKeys[0]);
}

/**
 * AES-256-GCM with a random 96-bit IV. `context` (the user id) is bound as
 * associated data: a ciphertext moved to another user's row fails to decrypt.
 * Format: `v1.<keyId>.<iv>.<ciphertext+tag>` (base64url parts).
 */
export function encryptSecret(plaintext: string, context: string): string {
  const key = secrets().totpKeys[0];
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return ["v1", keyId(key), iv.toString("base64url"), body.toString("base64url")].join(".");
}

/** Inverse of encryptSecret; throws if the key is unknown or the data or context was tampered with. */
export function decryptSecret(stored: string, context: string): string {
  const [version, id, ivPart, bodyPart] = stored.split(".");
  const key = secrets().totpKeys.find((k) => keyId(k) === id);
  if (version !== "v1" || !key || !ivPart || !bodyPart) throw new Error("Unreadable encrypted secret");
  const body = Buffer.from(bodyPart, "base64url");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(ivPart, "base64url"));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString("utf8");
}
