import "server-only";
import { and, eq, isNull, sql } from "drizzle-orm";
import { recoveryCodes } from "@/db/schema";
import { recordEvent } from "@/lib/audit";
import { notifyRecoveryCodeUsed } from "@/lib/notifications/notify";
import { hashRecoveryCode, isWellFormedRecoveryCode, normaliseRecoveryCode } from "@/lib/two-factor/recovery-codes";
import { forgetTrustedBrowsers } from "@/lib/two-factor/trusted-browsers";
import { owesSecondFactor, type Factor, type Refusal } from "./factor";

// Unknown, already used, or used by a parallel request first: one answer.
const INVALID: Refusal = { error: "recovery_invalid", event: "sign_in.code_failed" };

/**
 * One of the user's recovery codes, each used once: marked used with the
 * sign-in, and every trusted browser forgotten (a recovery code means the
 * authenticator may be lost).
 */
export const recoveryCode: Factor = {
  guessable: true,
  qualifies: owesSecondFactor,
  async verify({ db, input, user, context }) {
    const normalised = normaliseRecoveryCode(input.code);
    if (!isWellFormedRecoveryCode(normalised)) return { ok: false, ...INVALID };
    const codeHash = hashRecoveryCode(user.id, normalised);
    return {
      ok: true,
      factor: "recovery_code",
      lost: INVALID,
      async consume(tx) {
        const used = await tx
          .update(recoveryCodes)
          .set({ usedAt: sql`now()` })
          .where(and(eq(recoveryCodes.userId, user.id), eq(recoveryCodes.codeHash, codeHash), isNull(recoveryCodes.usedAt)))
          .returning({ id: recoveryCodes.id });
        if (used.length !== 1) return null;
        await recordEvent(tx, "recovery_code.used", { actorUserId: user.id, targetUserId: user.id }, context);
        await forgetTrustedBrowsers(tx, user.id, null, user.id, context, "recovery_code_used");
        return {};
      },
      afterCommit: () => notifyRecoveryCodeUsed(db, user, context),
    };
  },
};
