import "server-only";
import { and, eq, gt, sql } from "drizzle-orm";
import type { Database, Executor } from "@/db";
import { stepUpConfirmations } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { verifyOwnPassword } from "@/lib/auth/password-attempts";
import { verifyCurrentCode } from "@/lib/two-factor/current-code";
import { factorsOf } from "@/lib/two-factor/factors";

/** An admin who confirmed within this window, in this same session, is not asked again. */
export const STEP_UP_WINDOW_SECONDS = 5 * 60;

/** How a session confirms: a current code from the app, else a security key, else the password. */
export type StepUpMethod = "code" | "key" | "password";

/**
 * The admin acting and the session they act in (the JWT's `sid`, read on the
 * server, never sent to the browser). A confirmation belongs to the session.
 */
export type AdminSession = { id: string; sessionId: string };

/** What a change that weakens sign-in answers while this session has not confirmed. */
export type ConfirmationRequired = { ok: false; error: "confirmation_required"; method: StepUpMethod };

/** How this user confirms: a current code when they have the app, a security key when they have only keys, else their password. */
export async function stepUpMethod(db: Executor, userId: string): Promise<StepUpMethod> {
  const factors = await factorsOf(db, userId);
  if (factors.totp) return "code";
  return factors.keys ? "key" : "password";
}

/**
 * Did this very session confirm within the window? A new session — a fresh
 * sign-in, or a copied cookie signed in elsewhere — has no row: signing in
 * is not a confirmation.
 */
export async function isRecentlyConfirmed(db: Executor, session: AdminSession): Promise<boolean> {
  const rows = await db
    .select({ sessionId: stepUpConfirmations.sessionId })
    .from(stepUpConfirmations)
    .where(
      and(
        eq(stepUpConfirmations.sessionId, session.sessionId),
        eq(stepUpConfirmations.userId, session.id),
        gt(stepUpConfirmations.confirmedAt, sql`now() - make_interval(secs => ${STEP_UP_WINDOW_SECONDS})`),
      ),
    );
  return rows.length === 1;
}

/** For a change that weakens sign-in: null when this session has confirmed, else the refusal naming how to confirm. */
export async function requireConfirmation(db: Executor, session: AdminSession): Promise<ConfirmationRequired | null> {
  if (await isRecentlyConfirmed(db, session)) return null;
  return { ok: false, error: "confirmation_required", method: await stepUpMethod(db, session.id) };
}

/**
 * Re-confirms the admin before a sensitive change, for this session only. A
 * code is single-use and counts toward the admin's own lockout, like at
 * sign-in; a wrong password is audited. Returns "ok", "invalid" or "locked_out".
 */
export async function confirmAdmin(
  db: Database,
  session: AdminSession,
  secret: string,
  context: RequestContext,
): Promise<"ok" | "invalid" | "locked_out"> {
  const adminId = session.id;
  const method = await stepUpMethod(db, adminId);
  if (method === "key") return "invalid"; // a key confirms with its assertion (lib/security-keys/step-up.ts), never a typed secret
  if (method === "code") {
    const verdict = await verifyCurrentCode(db, adminId, secret.replace(/\s/g, ""), context);
    if (verdict === "locked_out") return "locked_out";
    if (verdict !== "ok") return "invalid";
  } else {
    const verdict = await verifyOwnPassword(db, adminId, secret);
    if (verdict !== "ok") {
      const limited = verdict === "rate_limited";
      await recordEvent(db, "sign_in.password_failed", { actorUserId: adminId, targetUserId: adminId }, context, {
        during: "step_up",
        reason: limited ? "rate_limited" : "bad_credentials",
      });
      return limited ? "locked_out" : "invalid";
    }
  }
  await recordConfirmation(db, session);
  return "ok";
}

/** This session confirmed just now: for the next 5 minutes, it is not asked again. */
export async function recordConfirmation(db: Executor, session: AdminSession): Promise<void> {
  await db
    .insert(stepUpConfirmations)
    .values({ sessionId: session.sessionId, userId: session.id })
    // A session id names one user's session: another user's row under it is never refreshed.
    .onConflictDoUpdate({ target: stepUpConfirmations.sessionId, set: { confirmedAt: sql`now()` }, setWhere: eq(stepUpConfirmations.userId, session.id) });
}
