import "server-only";
import { eq } from "drizzle-orm";
import type { Database } from "@/db";
import { totpCredentials } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { clearSecondFactorFailures, reserveSecondFactorAttempt } from "@/lib/two-factor/lockout";
import { checkTotpCode, type TotpCheck } from "@/lib/two-factor/totp";
import { consumeTimeStep } from "@/lib/two-factor/time-step";
import { readTotpSecret } from "@/lib/two-factor/totp-secret";

export type CurrentCodeResult = "ok" | "invalid" | "locked_out" | "not_enabled";

/**
 * Step-up check before a sensitive change (disable, new recovery codes, an
 * admin's Confirm): a current TOTP code, single-use like at sign-in. The
 * attempt is reserved on the sign-in lockout before the code is judged, so a
 * stolen session gets no more guesses by sending them in parallel.
 */
export async function verifyCurrentCode(
  db: Database,
  userId: string,
  code: string,
  context: RequestContext,
): Promise<CurrentCodeResult> {
  const [credential] = await db.select().from(totpCredentials).where(eq(totpCredentials.userId, userId));
  if (!credential?.enabledAt) return "not_enabled";
  const attempt = await reserveSecondFactorAttempt(db, userId);
  if (!attempt.allowed) {
    await recordEvent(db, "sign_in.locked_attempt", { actorUserId: userId, targetUserId: userId }, context, { during: "step_up" });
    return "locked_out";
  }
  const secret = readTotpSecret(credential.secretCiphertext, userId);
  const check: TotpCheck = secret === null ? { result: "invalid" } : checkTotpCode(secret, code, credential.lastUsedStep, Math.floor(Date.now() / 1000));
  if (check.result === "valid" && (await consumeTimeStep(db, userId, check.timeStep))) {
    await clearSecondFactorFailures(db, userId);
    return "ok";
  }
  await db.transaction(async (tx) => {
    const event = check.result === "invalid" ? "sign_in.code_failed" : "sign_in.code_replayed";
    await recordEvent(tx, event, { actorUserId: userId, targetUserId: userId }, context, { during: "step_up" });
    if (attempt.locks) await recordEvent(tx, "sign_in.locked_out", { targetUserId: userId }, context);
  });
  return attempt.locks ? "locked_out" : "invalid";
}
