import "server-only";
import { inArray, lt, not, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { auditEvents, rateLimits, sessions, signInChallenges, stepUpConfirmations, trustedBrowsers, webauthnChallenges } from "@/db/schema";
import { STEP_UP_WINDOW_SECONDS } from "@/lib/admin/step-up";
import { isLive } from "@/lib/auth/session-records";
import { auditRetentionDays } from "@/lib/env";

// Longer than any rate-limit window (the longest is an hour), so no live counter is lost.
const RATE_LIMIT_KEEP = sql`now() - interval '1 day'`;

/**
 * Deletes rows that can no longer matter: expired challenges (WebAuthn ones too) and trusted
 * browsers, sessions past their idle or absolute limit, administrators'
 * confirmations past their window, and rate-limit counters whose window
 * closed long ago. (Rows of sessions a version bump ended go with their idle
 * limit: deleting them at once could race the re-grant of the session that
 * made the change.) Idempotent and safe to run from every instance at once.
 * Audit events go once they are older than AUDIT_RETENTION_DAYS (400 by
 * default; 0 keeps them all).
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
    auditEvents: await sweepAuditEvents(db),
  };
}

// Per statement: the first sweep after the retention is lowered (or of a log that predates it) may have
// millions of rows to delete; in batches, no statement holds its locks or its transaction for long, and
// the embedded database's single connection answers sign-ins between them.
const AUDIT_SWEEP_BATCH = 5_000;

async function sweepAuditEvents(db: Executor): Promise<number> {
  const days = auditRetentionDays();
  if (days === null) return 0;
  const cutoff = sql`now() - make_interval(days => ${days})`;
  let deleted = 0;
  for (;;) {
    // Oldest first through audit_events_at_idx, so each batch reads only rows it deletes.
    const batch = db.select({ id: auditEvents.id }).from(auditEvents).where(lt(auditEvents.at, cutoff)).orderBy(auditEvents.at).limit(AUDIT_SWEEP_BATCH);
    const rows = await db.delete(auditEvents).where(inArray(auditEvents.id, batch)).returning({ id: auditEvents.id });
    deleted += rows.length;
    if (rows.length < AUDIT_SWEEP_BATCH) return deleted;
  }
}
