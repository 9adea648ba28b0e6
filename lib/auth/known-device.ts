import "server-only";
import { createHmac } from "node:crypto";
import { randomToken, safeEqual } from "@/lib/crypto";
import { secrets } from "@/lib/env";

export const KNOWN_DEVICE_COOKIE = "known-device";
/** Longer than anyone goes without signing in; every sign-in sets it again. */
export const KNOWN_DEVICE_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DEVICE_ID = /^[A-Za-z0-9_-]{22}$/;

function mac(userId: string, deviceId: string): string {
  return createHmac("sha256", secrets().authSecret).update(`known-device:${userId}:${deviceId}`).digest("base64url");
}

/**
 * The device id a known-device cookie names, when the cookie was issued by
 * this server (HMAC with AUTH_SECRET) for this very user; otherwise null.
 * A cookie only decides which failure counter an attempt lands on: it never
 * stands in for the password or the second factor.
 */
export function knownDeviceOf(cookie: string | undefined, userId: string): string | null {
  const [version, cookieUserId, deviceId, signature, ...rest] = (cookie ?? "").slice(0, 200).split(".");
  if (version !== "v1" || rest.length > 0 || cookieUserId !== userId || !UUID.test(userId) || !DEVICE_ID.test(deviceId ?? "")) return null;
  return safeEqual(signature ?? "", mac(userId, deviceId)) ? deviceId : null;
}

/**
 * The cookie value for a browser that just proved `userId`'s password: the
 * one it already carries for that user (its failure counter stays its own),
 * or a new device id (128 random bits).
 */
export function knownDeviceCookie(userId: string, current: string | undefined): string {
  const deviceId = knownDeviceOf(current, userId) ?? randomToken(16);
  return `v1.${userId}.${deviceId}.${mac(userId, deviceId)}`;
}
