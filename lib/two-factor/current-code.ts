import "server-only";
import { eq } from "drizzle-orm";
import type { Database } from "@/db";
import { totpCredentials, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { isLockedOut, recordSecondFactorFailure } from "@/lib/two-factor/lockout";
import { checkTotpCode, type TotpCheck } from "@/lib/two-factor/totp";
import { consumeTimeStep } from "@/lib/two-factor/time-step";
import { readTotpSecret } from "@/lib/two-factor/totp-secret";

export type CurrentCodeResult = "ok" | "invalid" | "locked_out" | "not_enabled";

/**
 * Step-up check before a sensitive change (disable, new recovery codes): a
 * current TOTP code, single-use like at sign-in, and wrong codes count toward
 * the same lockout — a stolen session cannot guess its way to disabling 2FA.
 */
export async function verifyCurrentCode(
  db: Database,
  userId: string,
  code: string,
  context: RequestContext,
): Promise<CurrentCodeResult> {
  const [row] = await db
    .select({ credential: totpCredentials, lockedUntil: users.secondFactorLockedUntil })
    .from(totpCredentials)
    .innerJoin(users, eq(users.id, totpCredentials.userId))
    .where(eq(totpCredentials.userId, userId));
  if (!row?.credential.enabledAt) return "not_enabled";
  if (isLockedOut({ secondFactorLockedUntil: row.lockedUntil })) return "locked_out";
  const secret = readTotpSecret(row.credential.secretCiphertext, userId);
  const check: TotpCheck = secret === null ? { result: "invalid" } : checkTotpCode(secret, code, row.credential.lastUsedStep, Math.floor(Date.now() / 1000));
  if (check.result === "valid" && (await consumeTimeStep(db, userId, check.timeStep))) return "ok";
  return db.transaction(async (tx) => {
    const locked = await recordSecondFactorFailure(tx, userId);
    const event = check.result === "invalid" ? "sign_in.code_failed" : "sign_in.code_replayed";
    await recordEvent(tx, event, { actorUserId: userId, targetUserId: userId }, context, { during: "step_up" });
    if (locked) await recordEvent(tx, "sign_in.locked_out", { targetUserId: userId }, context);
    return locked ? "locked_out" : "invalid";
  });
}
