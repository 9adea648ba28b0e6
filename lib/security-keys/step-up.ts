import "server-only";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import type { Database } from "@/db";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { recordConfirmation, type AdminSession } from "@/lib/admin/step-up";
import { clearSecondFactorFailures, reserveSecondFactorAttempt } from "@/lib/two-factor/lockout";
import { recordKeyUse, verifyKeyAssertion } from "./assertion";
import { promptForOwnKeys } from "./sign-in";

/**
 * The prompt for a confirmation with a security key: this user's keys, a
 * challenge that belongs to this session (a copied cookie signed in
 * elsewhere is another session, and cannot use it).
 */
export async function startKeyConfirmation(
  db: Database,
  session: AdminSession,
): Promise<{ ok: true; options: PublicKeyCredentialRequestOptionsJSON } | { ok: false; error: "no_keys" | "not_found" }> {
  const prompt = await promptForOwnKeys(db, { purpose: "step_up", userId: session.id, sessionId: session.sessionId });
  if (prompt === "gone") return { ok: false, error: "not_found" }; // the session was signed out a moment ago (its row is gone)
  return prompt === "no_keys" ? { ok: false, error: "no_keys" } : { ok: true, options: prompt };
}

/**
 * Confirms this session with one of the user's keys, as a current code would
 * (lib/admin/step-up.ts confirmAdmin): the attempt is reserved on the shared
 * lockout before the assertion is judged, the key's use is recorded with its
 * counter, and the confirmation belongs to this session only.
 */
export async function confirmWithKey(db: Database, session: AdminSession, assertion: unknown, context: RequestContext): Promise<"ok" | "invalid" | "locked_out"> {
  const who = { actorUserId: session.id, targetUserId: session.id };
  const attempt = await reserveSecondFactorAttempt(db, session.id);
  if (!attempt.allowed) {
    await recordEvent(db, "sign_in.locked_attempt", who, context, { during: "step_up" });
    return "locked_out";
  }
  const verdict = await verifyKeyAssertion(db, session.id, assertion, { purpose: "step_up", userId: session.id, sessionId: session.sessionId });
  const used =
    verdict.ok &&
    (await db.transaction(async (tx) => {
      if (!(await recordKeyUse(tx, verdict))) return false;
      await recordEvent(tx, "security_key.used", who, context, { name: verdict.key.name, userVerified: verdict.userVerified, during: "step_up" });
      await recordConfirmation(tx, session);
      return true;
    }));
  if (used) {
    await clearSecondFactorFailures(db, session.id);
    return "ok";
  }
  await db.transaction(async (tx) => {
    const regressed = !verdict.ok && verdict.regressed;
    await recordEvent(tx, regressed ? "security_key.counter_regressed" : "security_key.refused", who, context, { during: "step_up" });
    if (attempt.locks) await recordEvent(tx, "sign_in.locked_out", { targetUserId: session.id }, context);
  });
  return attempt.locks ? "locked_out" : "invalid";
}
