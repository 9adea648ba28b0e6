import { describe, expect, it } from "vitest";
import { isValidSessionGrant, sessionGrant } from "@/lib/auth/session-grant";
import { LOCKOUT_BASE_SECONDS, MAX_SECOND_FACTOR_FAILURES } from "@/lib/two-factor/lockout";

const ALICE = "5b0c3c4e-4a51-4c3e-9f0b-8f5a2a8e0c01";
const BOB = "0f1d9d43-7d7e-4b9a-8a57-3c8f9b7e2d02";

describe("second-factor lockout policy", () => {
  it("locks after 5 consecutive wrong codes, for 15 minutes at first", () => {
    expect(MAX_SECOND_FACTOR_FAILURES).toBe(5);
    expect(LOCKOUT_BASE_SECONDS).toBe(15 * 60);
  });
});

describe("session re-issue grant", () => {
  const A = "7a4d1f0e-2c8b-4f57-9a31-6b0e5d2c9f10";
  const B = "c31e8b52-95d4-4a0f-8e67-1f2a3b4c5d6e";

  it("accepts the grant computed for this user, session and session version", () => {
    expect(isValidSessionGrant(sessionGrant(ALICE, A, 3), ALICE, A, 3)).toBe(true);
  });

  it("refuses a grant a browser makes up to revive a revoked session", () => {
    expect(isValidSessionGrant("0".repeat(64), ALICE, A, 3)).toBe(false);
    expect(isValidSessionGrant("", ALICE, A, 3)).toBe(false);
    expect(isValidSessionGrant(undefined, ALICE, A, 3)).toBe(false);
    expect(isValidSessionGrant({ grant: sessionGrant(ALICE, A, 3) }, ALICE, A, 3)).toBe(false);
  });

  it("refuses another user's grant", () => {
    expect(isValidSessionGrant(sessionGrant(BOB, A, 3), ALICE, A, 3)).toBe(false);
  });

  it("refuses a grant for another session of the same user", () => {
    expect(isValidSessionGrant(sessionGrant(ALICE, A, 3), ALICE, B, 3)).toBe(false);
  });

  it("refuses a grant for an older session version", () => {
    expect(isValidSessionGrant(sessionGrant(ALICE, A, 2), ALICE, A, 3)).toBe(false);
  });
});
