import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { completeSignIn } from "@/lib/auth/second-step";
import { decryptSecret } from "@/lib/crypto";
import { verifyCurrentCode } from "@/lib/two-factor/current-code";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { MAX_SECOND_FACTOR_FAILURES } from "@/lib/two-factor/lockout";
import { disableTwoFactor } from "@/lib/two-factor/manage";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, CONTEXT, enrolledUser, eventsAbout, newUser, openChallenges, totpRow, userRow, wrongCode, type TestUser } from "./support/fixtures";

const BURST = 20;

/**
 * Every way of judging a second-factor code reserves the attempt first, in one
 * UPDATE … RETURNING, and judges only what it reserved: a burst of parallel
 * guesses gets the same 5 judged attempts as guesses sent one by one.
 */
describe.each(testDrivers())("parallel guesses against the lockout on %s", (driver) => {
  const t = useTestDatabase(driver);

  /**
   * Attempts that were judged must stay within one lock's allowance: a success or a wrong code. Not judged: a
   * refusal for the lock, and what the right code's success leaves the attempts still in flight (2FA off at a
   * Disable: "not_enabled"; a consumed challenge: "challenge_expired"), both answered before any reservation.
   */
  const JUDGED = new Set(["ok", "invalid", "code_invalid", "recovery_invalid"]);
  const judged = (answers: string[]) => answers.filter((a) => JUDGED.has(a)).length;

  async function failuresAudited(userId: string): Promise<number> {
    return (await eventsAbout(t.db, userId)).filter((e) => e.event === "sign_in.code_failed").length;
  }

  it(`${BURST} parallel wrong codes and the right one at a step-up (Disable): at most 5 judged, one lock, 2FA stays on`, async () => {
    const user = await enrolledUser(t.db);
    const guesses = [...Array.from({ length: BURST }, () => wrongCode(user.secret)), codeAt(user.secret)];
    const answers = (await Promise.all(guesses.map((code) => disableTwoFactor(t.db, user.id, code, CONTEXT)))).map((a) => (typeof a === "string" ? a : "ok"));
    // A success clears the count, as it does for codes sent one by one: if the right code was among the first
    // attempts, the ones still in flight get a fresh allowance (seen under load: 5 wrong judged, then ok).
    expect(judged(answers), answers.join(" ")).toBeLessThanOrEqual(answers.includes("ok") ? 2 * MAX_SECOND_FACTOR_FAILURES : MAX_SECOND_FACTOR_FAILURES);
    expect(await failuresAudited(user.id)).toBeLessThanOrEqual(answers.includes("ok") ? 2 * MAX_SECOND_FACTOR_FAILURES - 1 : MAX_SECOND_FACTOR_FAILURES);
    const row = await userRow(t.db, user.id);
    expect(row.secondFactorLockouts).toBeLessThanOrEqual(1);
    // The right code passes only if it was one of the five reserved attempts.
    if (answers.at(-1) !== "ok") expect((await totpRow(t.db, user.id))?.enabledAt).not.toBeNull();
  });

  it("4 earlier failures leave one attempt for a parallel burst of step-up codes", async () => {
    const user = await enrolledUser(t.db);
    await t.db.update(users).set({ secondFactorFailures: MAX_SECOND_FACTOR_FAILURES - 1 }).where(eq(users.id, user.id));
    const answers = await Promise.all(
      Array.from({ length: BURST }, () => verifyCurrentCode(t.db, user.id, wrongCode(user.secret), CONTEXT)),
    );
    expect(judged(answers)).toBeLessThanOrEqual(1);
    expect(answers.filter((a) => a === "locked_out")).toHaveLength(BURST);
    expect((await userRow(t.db, user.id)).secondFactorLockouts).toBe(1);
  });

  it(`${BURST} parallel wrong codes on fresh sign-in challenges: at most 5 judged and one lock (no escalation by burst)`, async () => {
    const user = await enrolledUser(t.db);
    const challenges = await openChallenges(t.db, user, BURST);
    const results = await Promise.all(
      challenges.map((challenge) => completeSignIn(t.db, { challenge, method: "totp", code: wrongCode(user.secret) }, CONTEXT)),
    );
    expect(judged(results.map((r) => (r.ok ? "ok" : r.error)))).toBeLessThanOrEqual(MAX_SECOND_FACTOR_FAILURES - 1);
    expect(await failuresAudited(user.id)).toBeLessThanOrEqual(MAX_SECOND_FACTOR_FAILURES);
    expect((await userRow(t.db, user.id)).secondFactorLockouts).toBe(1);
  });

  it(`${BURST} parallel wrong recovery codes on fresh sign-in challenges: at most 5 judged and one lock`, async () => {
    const user = await enrolledUser(t.db);
    const challenges = await openChallenges(t.db, user, BURST);
    const results = await Promise.all(
      challenges.map((challenge) => completeSignIn(t.db, { challenge, method: "recovery", code: "zzzz-zzzz-zzzz-zzzz" }, CONTEXT)),
    );
    expect(judged(results.map((r) => (r.ok ? "ok" : r.error)))).toBeLessThanOrEqual(MAX_SECOND_FACTOR_FAILURES - 1);
    expect((await userRow(t.db, user.id)).secondFactorLockouts).toBe(1);
  });
});

/** The enrollment step was the one code check with no limit at all. */
describe.each(testDrivers())("guessing at the enrollment step on %s", (driver) => {
  const t = useTestDatabase(driver);

  async function pending(user: TestUser): Promise<string> {
    const started = await startEnrollment(t.db, user);
    if (!started.ok) throw new Error(started.error);
    return started.secret;
  }

  it("50 wrong enrollment codes are counted, audited and lock like sign-in; the right code is refused while locked", async () => {
    const user = await newUser(t.db);
    const secret = await pending(user);
    const answers: string[] = [];
    for (let i = 0; i < 50; i++) {
      const result = await confirmEnrollment(t.db, user.id, wrongCode(secret), CONTEXT);
      answers.push(result.ok ? "ok" : result.error);
    }
    expect(answers.slice(0, 4)).toEqual(Array(4).fill("code_invalid"));
    expect(answers.slice(4)).toEqual(Array(46).fill("locked_out"));
    const events = (await eventsAbout(t.db, user.id)).map((e) => e.event);
    expect(events.filter((e) => e === "sign_in.code_failed")).toHaveLength(5);
    expect(events).toContain("sign_in.locked_out");
    expect(await confirmEnrollment(t.db, user.id, codeAt(secret), CONTEXT)).toEqual({ ok: false, error: "locked_out" });
    expect((await totpRow(t.db, user.id))?.enabledAt).toBeNull();
  });

  it(`${BURST} parallel wrong enrollment codes: at most 5 judged, one lock`, async () => {
    const user = await newUser(t.db);
    const secret = await pending(user);
    const results = await Promise.all(
      Array.from({ length: BURST }, () => confirmEnrollment(t.db, user.id, wrongCode(secret), CONTEXT)),
    );
    expect(results.filter((r) => !r.ok && r.error !== "locked_out").length).toBeLessThanOrEqual(MAX_SECOND_FACTOR_FAILURES - 1);
    expect((await userRow(t.db, user.id)).secondFactorLockouts).toBe(1);
  });

  it("an Enable racing a confirmation never gets a secret enabled that no code verified", async () => {
    for (let round = 0; round < 8; round++) {
      const user = await newUser(t.db);
      const verified = await pending(user);
      const [confirmed] = await Promise.all([
        confirmEnrollment(t.db, user.id, codeAt(verified), CONTEXT),
        startEnrollment(t.db, user),
        startEnrollment(t.db, user),
      ]);
      const row = await totpRow(t.db, user.id);
      if (row?.enabledAt) {
        expect(confirmed.ok).toBe(true);
        expect(decryptSecret(row.secretCiphertext, user.id), `round ${round}`).toBe(verified);
      }
    }
  });
});
