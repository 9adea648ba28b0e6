import { and, count, eq, gt, isNull, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditEvents, recoveryCodes, users } from "@/db/schema";
import { completeSignIn, type SecondStepResult } from "@/lib/auth/second-step";
import { LOCKOUT_BASE_SECONDS, MAX_SECOND_FACTOR_FAILURES } from "@/lib/two-factor/lockout";
import { testDrivers, useTestDatabase } from "./support/databases";
import {
  codeAt,
  CONTEXT,
  databaseNow,
  enrolledUser,
  expectWithin,
  openChallenge,
  rewindLastUsedStep,
  userRow,
  type EnrolledUser,
} from "./support/fixtures";

/**
 * Online guessing of the second factor by someone who has the password,
 * at volume. lockout.security.test.ts checks each rule once; this drives
 * 1000 wrong codes through the real sign-in (passwordStep, then
 * completeSignIn) and checks that the rules hold on every round.
 *
 * The lockout has no injectable clock (completeSignIn reads Date.now() and
 * the lock is written with SQL now()), so a lock is ended the way time would
 * end it: its locked_until is moved into the past with an UPDATE. Nothing
 * else is touched — the failure count and the number of earlier locks stay
 * as the code left them, so the escalation is the product's own.
 */

const ROUNDS = 125;
/** Sent per fresh sign-in: more than the lock allows, so the surplus shows it is refused unchecked. */
const CODES_PER_ROUND = 8;
const DAY_SECONDS = 24 * 60 * 60;
const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

/** The codes that could be accepted right now: steps T−1 and T, and T+1 in case the step turns meanwhile. */
function liveCodes(secret: string): Set<string> {
  return new Set([-1, 0, 1].map((offset) => codeAt(secret, offset)));
}

/**
 * The attacker's script: TOTP codes counted up from 000000 (skipping, at the
 * moment of sending, any code that is live — otherwise the test would be
 * flaky, not the product wrong), and every third guess a well-formed
 * recovery code that is none of the user's.
 */
function guesser(user: EnrolledUser) {
  let next = 0;
  let n = 0;
  const own = new Set(user.recoveryCodes.map((c) => c.replace(/-/g, "")));
  return (): { method: "totp" | "recovery"; code: string } => {
    if (n++ % 3 === 2) {
      for (;;) {
        const digits = String(n).padStart(16, "0");
        const code = [...digits].map((d, i) => CROCKFORD[(Number(d) * 7 + i * 3) % 32]).join("");
        if (!own.has(code)) return { method: "recovery", code: code.replace(/(.{4})(?=.)/g, "$1-") };
        n++;
      }
    }
    const live = liveCodes(user.secret);
    for (;;) {
      const code = String(next++ % 1_000_000).padStart(6, "0");
      if (!live.has(code)) return { method: "totp", code };
    }
  };
}

describe.each(testDrivers())("guessing the second factor on %s", (driver) => {
  const t = useTestDatabase(driver);

  const checkedCodes = async (userId: string) => {
    const [row] = await t.db
      .select({ n: count() })
      .from(auditEvents)
      .where(and(eq(auditEvents.targetUserId, userId), eq(auditEvents.event, "sign_in.code_failed")));
    return row.n;
  };
  /** The lock ran out: as if its time had passed. */
  const endLock = (userId: string) =>
    t.db.update(users).set({ secondFactorLockedUntil: sql`now() - interval '1 second'` }).where(eq(users.id, userId));

  it("1000 scripted wrong codes (TOTP and recovery) spread over 125 fresh sign-ins: 0 successes, ≤ 5 checked per lock, the right codes refused while locked, locks doubling", async () => {
    expect(MAX_SECOND_FACTOR_FAILURES).toBe(5);
    const user = await enrolledUser(t.db);
    const guess = guesser(user);
    const results: SecondStepResult[] = [];
    let sent = 0;

    for (let round = 1; round <= ROUNDS; round++) {
      const challenge = await openChallenge(t.db, user); // a fresh sign-in: the password step again
      const checkedBefore = await checkedCodes(user.id);
      const answers: string[] = [];
      for (let i = 0; i < CODES_PER_ROUND; i++) {
        const result = await completeSignIn(t.db, { challenge, ...guess() }, CONTEXT);
        sent++;
        results.push(result);
        answers.push(result.ok ? "SIGNED IN" : result.error);
      }
      // Wrong codes are judged (not refused as an expired challenge) until the 5th, which locks;
      // recovery codes count on the same counter.
      expect(answers.slice(0, 4).every((a) => a === "code_invalid" || a === "recovery_invalid"), `round ${round}: ${answers}`).toBe(true);
      expect(answers.slice(4), `round ${round}: locked from the 5th on`).toEqual(Array(CODES_PER_ROUND - 4).fill("locked_out"));
      expect((await checkedCodes(user.id)) - checkedBefore, `round ${round}: codes checked in this lock window`).toBe(5);

      // The lock doubles each time, up to a day.
      const row = await userRow(t.db, user.id);
      expect(row.secondFactorLockouts).toBe(round);
      const lockSeconds = Math.min(LOCKOUT_BASE_SECONDS * 2 ** (round - 1), DAY_SECONDS);
      expectWithin(row.secondFactorLockedUntil, new Date((await databaseNow(t.db)).getTime() + lockSeconds * 1000), 30_000);

      // While locked, the right TOTP code and a right recovery code are refused too (and not spent).
      const right = await completeSignIn(t.db, { challenge, method: "totp", code: codeAt(user.secret) }, CONTEXT);
      const recovery = user.recoveryCodes[round % user.recoveryCodes.length];
      const rightRecovery = await completeSignIn(t.db, { challenge, method: "recovery", code: recovery }, CONTEXT);
      expect([right, rightRecovery], `round ${round}: right codes while locked`).toEqual([
        { ok: false, error: "locked_out" },
        { ok: false, error: "locked_out" },
      ]);
      await endLock(user.id);
    }

    expect(sent).toBe(ROUNDS * CODES_PER_ROUND);
    expect(sent).toBe(1000);
    expect(results.filter((r) => r.ok)).toEqual([]);
    const [succeeded] = await t.db
      .select({ n: count() })
      .from(auditEvents)
      .where(and(eq(auditEvents.targetUserId, user.id), eq(auditEvents.event, "sign_in.succeeded")));
    expect(succeeded.n).toBe(0);
    // 5 checked per lock, 125 locks: 625 of the 1000 were judged, the rest refused unread.
    expect(await checkedCodes(user.id)).toBe(ROUNDS * MAX_SECOND_FACTOR_FAILURES);
    const [unused] = await t.db
      .select({ n: count() })
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.userId, user.id), isNull(recoveryCodes.usedAt)));
    expect(unused.n).toBe(10);

    // The user is not locked out for good: once the lock has run out, the right code works.
    // (This also shows the 0 above was earned: the sign-in itself was working all along.)
    await rewindLastUsedStep(t.db, user.id);
    const final = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "totp", code: codeAt(user.secret) }, CONTEXT);
    expect(final.ok).toBe(true);
    const [lockHistory] = await t.db.select({ n: count() }).from(users).where(and(eq(users.id, user.id), gt(users.secondFactorLockouts, 0)));
    expect(lockHistory.n, "a right code clears the lock history").toBe(0);
  }, 240_000); // 125 real argon2id password steps: minutes on a loaded 2-core machine
});
