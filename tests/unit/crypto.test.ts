import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret, randomToken, safeEqual, sha256Hex } from "@/lib/crypto";
import { secrets } from "@/lib/env";

const state = globalThis as typeof globalThis & { __secrets?: unknown };
const ALICE = "5b0c3c4e-4a51-4c3e-9f0b-8f5a2a8e0c01";
const BOB = "0f1d9d43-7d7e-4b9a-8a57-3c8f9b7e2d02";
const SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

const newKey = () => randomBytes(32).toString("base64");

/** Sets TOTP_ENCRYPTION_KEY and forgets the memoised secrets so lib/env.ts reads it again. */
function useKeys(value: string): void {
  process.env.TOTP_ENCRYPTION_KEY = value;
  state.__secrets = undefined;
}

/** Changes one byte of a base64url part of the stored format. */
function flipByte(stored: string, part: 2 | 3, index = 0): string {
  const parts = stored.split(".");
  const bytes = Buffer.from(parts[part], "base64url");
  bytes[index] ^= 0x01;
  parts[part] = bytes.toString("base64url");
  return parts.join(".");
}

describe("TOTP secret encryption (AES-256-GCM)", () => {
  const originalKeys = process.env.TOTP_ENCRYPTION_KEY;
  beforeEach(() => useKeys(newKey()));
  afterEach(() => useKeys(originalKeys!));

  it("decrypts what it encrypted, for the same user", () => {
    expect(decryptSecret(encryptSecret(SECRET, ALICE), ALICE)).toBe(SECRET);
  });

  it("never stores the secret in clear and uses a fresh IV each time", () => {
    const first = encryptSecret(SECRET, ALICE);
    const second = encryptSecret(SECRET, ALICE);
    expect(first).not.toContain(SECRET);
    expect(first.toLowerCase()).not.toContain(SECRET.toLowerCase());
    expect(first).not.toBe(second);
    expect(first).toMatch(/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
  });

  it("refuses a ciphertext copied into another user's row (the user id is bound as associated data)", () => {
    const stored = encryptSecret(SECRET, ALICE);
    expect(() => decryptSecret(stored, BOB)).toThrow();
  });

  it("refuses a tampered ciphertext", () => {
    const stored = encryptSecret(SECRET, ALICE);
    expect(() => decryptSecret(flipByte(stored, 3, 0), ALICE)).toThrow();
    expect(() => decryptSecret(flipByte(stored, 3, 25), ALICE)).toThrow(); // inside the authentication tag
  });

  it("refuses a tampered IV", () => {
    expect(() => decryptSecret(flipByte(encryptSecret(SECRET, ALICE), 2), ALICE)).toThrow();
  });

  it("refuses truncated, unversioned or malformed values", () => {
    const stored = encryptSecret(SECRET, ALICE);
    const [, id, iv, body] = stored.split(".");
    expect(() => decryptSecret(stored.slice(0, -4), ALICE)).toThrow();
    expect(() => decryptSecret(["v2", id, iv, body].join("."), ALICE)).toThrow();
    expect(() => decryptSecret(["v1", id, iv].join("."), ALICE)).toThrow();
    expect(() => decryptSecret("", ALICE)).toThrow();
    expect(() => decryptSecret(SECRET, ALICE)).toThrow();
  });

  it("refuses a ciphertext made with a key it does not hold", () => {
    const stored = encryptSecret(SECRET, ALICE);
    useKeys(newKey());
    expect(() => decryptSecret(stored, ALICE)).toThrow(/Unreadable/);
  });

  it("keeps old ciphertexts readable after key rotation (TOTP_ENCRYPTION_KEY=\"new,old\")", () => {
    const oldKey = newKey();
    const rotatedKey = newKey();
    useKeys(oldKey);
    const before = encryptSecret(SECRET, ALICE);

    useKeys(`${rotatedKey}, ${oldKey}`);
    expect(decryptSecret(before, ALICE)).toBe(SECRET);
    const after = encryptSecret(SECRET, ALICE);
    expect(after.split(".")[1]).not.toBe(before.split(".")[1]); // written under the new key

    useKeys(rotatedKey); // the old key retired: only what was re-encrypted stays readable
    expect(decryptSecret(after, ALICE)).toBe(SECRET);
    expect(() => decryptSecret(before, ALICE)).toThrow();
  });

  it("fails fast, naming the variable, when a key is not 32 bytes", () => {
    useKeys(randomBytes(16).toString("base64"));
    expect(() => secrets()).toThrow(/TOTP_ENCRYPTION_KEY/);
    useKeys(`${newKey()},not-a-key`);
    expect(() => secrets()).toThrow(/TOTP_ENCRYPTION_KEY/);
  });
});

describe("tokens and comparisons", () => {
  it("makes URL-safe random tokens that do not repeat", () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => randomToken(32)));
    expect(tokens.size).toBe(1000);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("hashes with SHA-256 (hex)", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("compares secrets exactly, including different lengths", () => {
    expect(safeEqual("a".repeat(64), "a".repeat(64))).toBe(true);
    expect(safeEqual("a".repeat(64), `${"a".repeat(63)}b`)).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
    expect(safeEqual("", "")).toBe(true);
  });
});
