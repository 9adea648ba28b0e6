import "server-only";
import { createHmac } from "node:crypto";
import { safeEqual } from "@/lib/crypto";
import { secrets } from "@/lib/env";

/**
 * After an action bumps sessionVersion (ending every session), the session
 * that made the change is re-issued through Auth.js `update`. The browser can
 * call `update` too, with any data: so the jwt callback accepts the new version
 * only with this grant, which is computed server-side and never sent out.
 */
export function sessionGrant(userId: string, sessionVersion: number): string {
  return createHmac("sha256", secrets().authSecret).update(`session-grant:${userId}:${sessionVersion}`).digest("hex");
}

export function isValidSessionGrant(grant: unknown, userId: string, sessionVersion: number): boolean {
  return typeof grant === "string" && safeEqual(grant, sessionGrant(userId, sessionVersion));
}
