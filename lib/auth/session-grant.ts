import "server-only";
import { createHmac } from "node:crypto";
import { safeEqual } from "@/lib/crypto";
import { secrets } from "@/lib/env";

/**
 * After an action bumps sessionVersion (ending every session), the session
 * that made the change is re-issued through Auth.js `update`. The browser can
 * call `update` too, with any data: so the jwt callback accepts the new version
 * only with this grant, which is computed server-side and never sent out.
 *
 * The grant names the user, the session id and the version the change itself
 * produced (the bump's RETURNING, never a later read): a grant for one session
 * cannot re-issue another, and a grant for version n cannot carry a session
 * past a later bump to n + 1 (an admin's override, Sign out everywhere).
 */
export function sessionGrant(userId: string, sessionId: string, sessionVersion: number): string {
  return createHmac("sha256", secrets().authSecret).update(`session-grant:${userId}:${sessionId}:${sessionVersion}`).digest("hex");
}

export function isValidSessionGrant(grant: unknown, userId: string, sessionId: string, sessionVersion: number): boolean {
  return typeof grant === "string" && safeEqual(grant, sessionGrant(userId, sessionId, sessionVersion));
}
