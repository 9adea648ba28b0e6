import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { knownDeviceCookie, knownDeviceOf } from "@/lib/auth/known-device";

const state = globalThis as typeof globalThis & { __secrets?: unknown };
const ALICE = "5b0c3c4e-4a51-4c3e-9f0b-8f5a2a8e0c01";
const BOB = "0f1d9d43-7d7e-4b9a-8a57-3c8f9b7e2d02";

describe("known-device cookie", () => {
  it("names the device for the user it was issued to, and keeps the device id when re-issued", () => {
    const cookie = knownDeviceCookie(ALICE, undefined);
    const deviceId = knownDeviceOf(cookie, ALICE);
    expect(deviceId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(knownDeviceCookie(ALICE, cookie)).toBe(cookie);
    expect(knownDeviceOf(knownDeviceCookie(ALICE, undefined), ALICE)).not.toBe(deviceId);
  });

  it("a forged, altered or other user's cookie names no device", () => {
    const alice = knownDeviceCookie(ALICE, undefined);
    const [, , deviceId, signature] = alice.split(".");
    const forged = [
      `v1.${BOB}.${deviceId}.${signature}`,
      `v1.${ALICE}.${"B".repeat(22)}.${signature}`,
      `v1.${ALICE}.${deviceId}.${signature.replace(/^./, (c) => (c === "A" ? "B" : "A"))}`,
      `v2.${ALICE}.${deviceId}.${signature}`,
      `${alice}.extra`,
      `v1.${ALICE}.${deviceId}`,
      "",
      "x".repeat(10_000),
    ];
    for (const cookie of forged) expect(knownDeviceOf(cookie, ALICE)).toBeNull();
    expect(knownDeviceOf(alice, BOB)).toBeNull();
    // Bob re-signing in on Alice's browser gets a device id of his own, not hers.
    expect(knownDeviceOf(knownDeviceCookie(BOB, alice), BOB)).not.toBe(deviceId);
  });

  it("is signed with AUTH_SECRET: another server's secret makes every cookie unknown", () => {
    const cookie = knownDeviceCookie(ALICE, undefined);
    const saved = process.env.AUTH_SECRET;
    try {
      process.env.AUTH_SECRET = randomBytes(32).toString("base64url");
      state.__secrets = undefined;
      expect(knownDeviceOf(cookie, ALICE)).toBeNull();
    } finally {
      process.env.AUTH_SECRET = saved;
      state.__secrets = undefined;
    }
    expect(knownDeviceOf(cookie, ALICE)).not.toBeNull();
  });
});
