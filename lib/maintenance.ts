import "server-only";
import { lt, not, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { rateLimits, sessions, signInChallenges, stepUpConfirmations, trustedBrowsers, webauthnChallenges } from "@/db/schema";
import { STEP_UP_WINDOW_SECONDS } from "@/lib/admin/step-up";
import { isLive } from "@/lib/auth/session-records";

// Longer than any rate-limit window (the longest is an hour), so no live counter is lost.
const RATE_LIMIT_KEEP = sql`now() - interval '1 day'`;

/**
 * Deletes rows that can no longer matter: expired challenges (WebAuthn ones too) and trusted
 * browsers, sessions past their idle or absolute limit, administrators'
 * confirmations past their window, and rate-limit counters whose window
 * closed long ago. (Rows of sessions a version bump ended go with their idle
 * limit: deleting them at once could race the re-grant of the session that
 * made the change.) Idempotent and safe to run from every instance at once.
 * The audit log is kept: how long is the operator's decision.
 */
export async function sweepExpired(db: Executor): Promise<Record<string, number>> {
  const count = async (rows: Promise<unknown[]>) => (await rows).length;
  return {
    challenges: await count(db.delete(signInChallenges).where(lt(signInChallenges.expiresAt, sql`now()`)).returning({ id: signInChallenges.tokenHash })),
    webauthnChallenges: await count(db.delete(webauthnChallenges).where(lt(webauthnChallenges.expiresAt, sql`now()`)).returning({ id: webauthnChallenges.challenge })),
    trustedBrowsers: await count(db.delete(trustedBrowsers).where(lt(trustedBrowsers.expiresAt, sql`now()`)).returning({ id: trustedBrowsers.id })),
    sessions: await count(db.delete(sessions).where(not(isLive())).returning({ id: sessions.sid })),
    stepUpConfirmations: await count(
      db
        .delete(stepUpConfirmations)
        .where(lt(stepUpConfirmations.confirmedAt, sql`now() - make_interval(secs => ${STEP_UP_WINDOW_SECONDS})`))
        .returning({ id: stepUpConfirmations.sessionId }),
    ),
    rateLimits: await count(db.delete(rateLimits).where(lt(rateLimits.windowStartedAt, RATE_LIMIT_KEEP)).returning({ key: rateLimits.key })),
  };
}
