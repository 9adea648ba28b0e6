import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  generateRecoveryCodes,
  hashRecoveryCode,
  isWellFormedRecoveryCode,
  normaliseRecoveryCode,
  RECOVERY_CODE_COUNT,
  RECOVERY_CODE_LENGTH,
} from "@/lib/two-factor/recovery-codes";

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";
const GROUP = "[0-9a-hjkmnp-tv-z]{4}";
const FORMAT = new RegExp(`^${GROUP}(-${GROUP}){5}$`);

describe("generated recovery codes", () => {
  it("come ten to a set, formatted xxxx-xxxx-xxxx-xxxx-xxxx-xxxx in Crockford base32", () => {
    const codes = generateRecoveryCodes();
    expect(RECOVERY_CODE_COUNT).toBe(10);
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(FORMAT);
  });

  it("carry at least 112 random bits, so a plain hash may store them: 24 symbols drawn evenly from all 32 (120 bits)", () => {
    const counts = new Map<string, number>();
    const sets = 200;
    for (let i = 0; i < sets; i++) {
      for (const code of generateRecoveryCodes()) {
        for (const c of code.replaceAll("-", "")) counts.set(c, (counts.get(c) ?? 0) + 1);
      }
    }
    expect([...counts.keys()].sort().join("")).toBe(CROCKFORD); // all 32 symbols, nothing else
    const expected = (sets * 10 * 24) / 32; // 1500 per symbol
    for (const n of counts.values()) {
      // A biased draw (modulo bias, a narrower alphabet) lands far outside ±25 % at this sample size.
      expect(n).toBeGreaterThan(expected * 0.75);
      expect(n).toBeLessThan(expected * 1.25);
    }
    expect(RECOVERY_CODE_LENGTH).toBe(24);
    for (const code of generateRecoveryCodes()) expect(code.replaceAll("-", "")).toHaveLength(RECOVERY_CODE_LENGTH);
    // NIST SP 800-63B-4 §3.1.2.1: under 112 bits a look-up secret would need a password-hashing scheme.
    expect(RECOVERY_CODE_LENGTH * Math.log2(counts.size)).toBeGreaterThanOrEqual(112);
  });

  it("never repeat, within a set or across sets", () => {
    const all = Array.from({ length: 1000 }, () => generateRecoveryCodes()).flat();
    expect(new Set(all).size).toBe(all.length);
  });

  it("are well formed once normalised", () => {
    for (const code of generateRecoveryCodes()) expect(isWellFormedRecoveryCode(normaliseRecoveryCode(code))).toBe(true);
  });

  it("fit a 375 px phone: 29 characters, six groups of four", () => {
    for (const code of generateRecoveryCodes()) {
      expect(code).toHaveLength(29);
      expect(code.split("-").map((group) => group.length)).toEqual([4, 4, 4, 4, 4, 4]);
    }
  });
});

describe("older 80-bit recovery codes, already handed out", () => {
  it("are still well formed, typed in any of the ways a new code may be", () => {
    for (const typed of ["abcd-efgh-jkmn-pqrs", "ABCD EFGH JKMN PQRS", "abcdefghjkmnpqrs", "oooo-iiii-llll-1111"]) {
      expect(isWellFormedRecoveryCode(normaliseRecoveryCode(typed))).toBe(true);
    }
  });

  it("hash as they did when they were stored (SHA-256 of user id, colon, normalised code)", () => {
    const userId = "5b0c3c4e-4a51-4c3e-9f0b-8f5a2a8e0c01";
    const expected = createHash("sha256").update(`${userId}:abcdefghjkmnpqrs`).digest("hex");
    expect(hashRecoveryCode(userId, normaliseRecoveryCode("ABCD-EFGH-JKMN-PQRS"))).toBe(expected);
  });
});

describe("recovery code normalisation", () => {
  it.each([
    ["abcd-efgh-jkmn-pqrs", "abcdefghjkmnpqrs"],
    ["ABCD-EFGH-JKMN-PQRS", "abcdefghjkmnpqrs"],
    ["  abcd efgh jkmn pqrs ", "abcdefghjkmnpqrs"],
    ["abcd\u00a0efgh\tjkmn\npqrs", "abcdefghjkmnpqrs"],
    ["abcdefghjkmnpqrs", "abcdefghjkmnpqrs"],
    ["ab-cd--ef gh-jk mn-pq rs", "abcdefghjkmnpqrs"],
    ["oooo-0000-iiii-llll", "0000000011111111"],
    ["OOOO-IIII-LLLL-1111", "0000111111111111"],
  ])("reads %j as %j", (typed, normalised) => {
    expect(normaliseRecoveryCode(typed)).toBe(normalised);
  });

  it("accepts a code typed with look-alikes as the code itself", () => {
    expect(normaliseRecoveryCode("1O2I-3L45-6789-abcd")).toBe(normaliseRecoveryCode("1021-3145-6789-abcd"));
  });

  it.each([
    ["too short", "abcd-efgh-jkmn-pqr"],
    ["a length between the old and the new", "abcd-efgh-jkmn-pqrs-tvwx"],
    ["one more than the old", "abcd-efgh-jkmn-pqrst"],
    ["one less than the new", "abcd-efgh-jkmn-pqrs-tvwx-yz0"],
    ["one more than the new", "abcd-efgh-jkmn-pqrs-tvwx-yz012"],
    ["a U, outside the alphabet", "abcd-efgh-jkmn-pqru"],
    ["punctuation", "abcd.efgh.jkmn.pqrs"],
    ["a unicode look-alike", "аbcd-efgh-jkmn-pqrs"], // Cyrillic а
    ["empty", ""],
  ])("refuses a code with %s", (_why, typed) => {
    expect(isWellFormedRecoveryCode(normaliseRecoveryCode(typed))).toBe(false);
  });
});

describe("recovery code hashes", () => {
  const alice = "5b0c3c4e-4a51-4c3e-9f0b-8f5a2a8e0c01";
  const bob = "0f1d9d43-7d7e-4b9a-8a57-3c8f9b7e2d02";

  it("are SHA-256 hex that do not contain the code", () => {
    const hash = hashRecoveryCode(alice, "abcdefghjkmnpqrs");
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain("abcdefghjkmnpqrs");
  });

  it("differ between users for the same code, so equal hashes never link two accounts", () => {
    expect(hashRecoveryCode(alice, "abcdefghjkmnpqrs")).not.toBe(hashRecoveryCode(bob, "abcdefghjkmnpqrs"));
  });

  it("are the same for the same user and normalised code", () => {
    const typed = normaliseRecoveryCode(" ABCD EFGH-JKMN-PQRS");
    expect(hashRecoveryCode(alice, typed)).toBe(hashRecoveryCode(alice, "abcdefghjkmnpqrs"));
  });
});
