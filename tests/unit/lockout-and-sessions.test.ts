import { describe, expect, it } from "vitest";
import { isValidSessionGrant, sessionGrant } from "@/lib/auth/session-grant";
import { isLockedOut, LOCKOUT_BASE_SECONDS, MAX_SECOND_FACTOR_FAILURES } from "@/lib/two-factor/lockout";

const ALICE = "5b0c3c4e-4a51-4c3e-9f0b-8f5a2a8e0c01";
const BOB = "0f1d9d43-7d7e-4b9a-8a57-3c8f9b7e2d02";

describe("second-factor lockout policy", () => {
  it("locks after 5 consecutive wrong codes, for 15 minutes at first", () => {
    expect(MAX_SECOND_FACTOR_FAILURES).toBe(5);
    expect(LOCKOUT_BASE_SECONDS).toBe(15 * 60);
  });

  it("is locked only while the lock time lies in the future", () => {
    const now = new Date("2026-01-01T12:00:00Z");
    expect(isLockedOut({ secondFactorLockedUntil: null }, now)).toBe(false);
    expect(isLockedOut({ secondFactorLockedUntil: new Date(now.getTime() + 1000) }, now)).toBe(true);
    expect(isLockedOut({ secondFactorLockedUntil: new Date(now.getTime()) }, now)).toBe(false);
    expect(isLockedOut({ secondFactorLockedUntil: new Date(now.getTime() - 1000) }, now)).toBe(false);
  });
});

describe("session re-issue grant", () => {
  it("accepts the grant computed for this user and session version", () => {
    expect(isValidSessionGrant(sessionGrant(ALICE, 3), ALICE, 3)).toBe(true);
  });

  it("refuses a grant a browser makes up to revive a revoked session", () => {
    expect(isValidSessionGrant("0".repeat(64), ALICE, 3)).toBe(false);
    expect(isValidSessionGrant("", ALICE, 3)).toBe(false);
    expect(isValidSessionGrant(undefined, ALICE, 3)).toBe(false);
    expect(isValidSessionGrant({ grant: sessionGrant(ALICE, 3) }, ALICE, 3)).toBe(false);
  });

  it("refuses another user's grant", () => {
    expect(isValidSessionGrant(sessionGrant(BOB, 3), ALICE, 3)).toBe(false);
  });

  it("refuses a grant for an older session version", () => {
    expect(isValidSessionGrant(sessionGrant(ALICE, 2), ALICE, 3)).toBe(false);
  });
});
