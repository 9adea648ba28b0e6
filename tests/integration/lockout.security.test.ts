import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { completeSignIn } from "@/lib/auth/second-step";
import { passwordStep } from "@/lib/auth/sign-in";
import { LOCKOUT_BASE_SECONDS, MAX_SECOND_FACTOR_FAILURES } from "@/lib/two-factor/lockout";
import { testDrivers, useTestDatabase } from "./support/databases";
import {
  codeAt,
  CONTEXT,
  databaseNow,
  enrolledUser,
  eventNamesAbout,
  expectWithin,
  openChallenge,
  rewindLastUsedStep,
  userRow,
  wrongCode,
  type EnrolledUser,
} from "./support/fixtures";

describe.each(testDrivers())("second-step lockout on %s", (driver) => {
  const t = useTestDatabase(driver);

  const guessTotp = async (user: EnrolledUser, challenge?: string) =>
    completeSignIn(
      t.db,
      { challenge: challenge ?? (await openChallenge(t.db, user)), method: "totp", code: wrongCode(user.secret) },
      CONTEXT,
    );
  const guessRecovery = async (challenge: string) =>
    completeSignIn(t.db, { challenge, method: "recovery", code: "zzzz-zzzz-zzzz-zzzz" }, CONTEXT);
  const rightTotp = async (user: EnrolledUser, challenge: string) =>
    completeSignIn(t.db, { challenge, method: "totp", code: codeAt(user.secret) }, CONTEXT);
  /** The lock ran out: as if its 15 minutes had passed. */
  const endLock = (user: EnrolledUser) =>
    t.db
      .update(users)
      .set({ secondFactorLockedUntil: sql`now() - interval '1 second'` })
      .where(eq(users.id, user.id));

  it("locks the second step for 15 minutes after 5 consecutive wrong codes", async () => {
    expect(MAX_SECOND_FACTOR_FAILURES).toBe(5);
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    for (let i = 1; i < 5; i++) expect(await guessTotp(user, challenge)).toEqual({ ok: false, error: "code_invalid" });
    expect((await userRow(t.db, user.id)).secondFactorLockedUntil).toBeNull();

    expect(await guessTotp(user, challenge)).toEqual({ ok: false, error: "locked_out" });
    const row = await userRow(t.db, user.id);
    const now = await databaseNow(t.db);
    expectWithin(row.secondFactorLockedUntil, new Date(now.getTime() + LOCKOUT_BASE_SECONDS * 1000), 30_000);
    expect(LOCKOUT_BASE_SECONDS).toBe(15 * 60);
    expect((await eventNamesAbout(t.db, user.id)).slice(-2)).toEqual(["sign_in.code_failed", "sign_in.locked_out"]);
  });

  it("refuses the correct code while locked (no guessing through the lock)", async () => {
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    for (let i = 0; i < 5; i++) await guessTotp(user, challenge);
    expect(await rightTotp(user, challenge)).toEqual({ ok: false, error: "locked_out" });
    expect(await completeSignIn(t.db, { challenge, method: "recovery", code: user.recoveryCodes[0] }, CONTEXT)).toEqual({
      ok: false,
      error: "locked_out",
    });
    expect(await eventNamesAbout(t.db, user.id)).not.toContain("sign_in.succeeded");
  });

  it("answers a locked account the same for right and wrong codes (no oracle to brute-force during the lock)", async () => {
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    for (let i = 0; i < 5; i++) await guessTotp(user, challenge);
    const locked = await userRow(t.db, user.id);
    expect(await guessTotp(user, challenge)).toEqual({ ok: false, error: "locked_out" });
    expect(await guessRecovery(challenge)).toEqual({ ok: false, error: "locked_out" });
    expect(await rightTotp(user, challenge)).toEqual({ ok: false, error: "locked_out" });
    // Nothing was evaluated: the lock is neither extended nor counted, the code not spent.
    const after = await userRow(t.db, user.id);
    expect(after).toMatchObject({
      secondFactorFailures: locked.secondFactorFailures,
      secondFactorLockouts: locked.secondFactorLockouts,
      secondFactorLockedUntil: locked.secondFactorLockedUntil,
    });
    await endLock(user);
    expect((await rightTotp(user, challenge)).ok).toBe(true);
  });

  it("counts wrong recovery codes and wrong TOTP codes on one counter (no second budget of guesses)", async () => {
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    expect(await guessTotp(user, challenge)).toEqual({ ok: false, error: "code_invalid" });
    expect(await guessRecovery(challenge)).toEqual({ ok: false, error: "recovery_invalid" });
    expect(await guessTotp(user, challenge)).toEqual({ ok: false, error: "code_invalid" });
    expect(await guessRecovery(challenge)).toEqual({ ok: false, error: "recovery_invalid" });
    expect(await guessRecovery(challenge)).toEqual({ ok: false, error: "locked_out" });
    expect(await rightTotp(user, challenge)).toEqual({ ok: false, error: "locked_out" });
  });

  it("does not reset the counter when the attacker starts a new sign-in with the password", async () => {
    const user = await enrolledUser(t.db);
    for (let i = 0; i < 4; i++) await guessTotp(user); // each on a fresh challenge
    const result = await passwordStep(t.db, { email: user.email, password: user.password }, CONTEXT);
    expect(result).toMatchObject({ ok: true, secondFactorDue: true });
    expect((await userRow(t.db, user.id)).secondFactorFailures).toBe(4);
    expect(await guessTotp(user, (result as { challenge: string }).challenge)).toEqual({ ok: false, error: "locked_out" });
  });

  it("does not reveal the lock at the password step (same answer as before)", async () => {
    const user = await enrolledUser(t.db);
    for (let i = 0; i < 5; i++) await guessTotp(user);
    expect(await passwordStep(t.db, { email: user.email, password: user.password }, CONTEXT)).toMatchObject({
      ok: true,
      secondFactorDue: true,
    });
  });

  it("resets the counter after a correct code", async () => {
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    for (let i = 0; i < 4; i++) await guessTotp(user, challenge);
    expect((await rightTotp(user, challenge)).ok).toBe(true);
    expect((await userRow(t.db, user.id)).secondFactorFailures).toBe(0);
    // Four more wrong codes do not lock: the count started again.
    for (let i = 0; i < 4; i++) expect(await guessTotp(user)).toEqual({ ok: false, error: "code_invalid" });
    expect((await userRow(t.db, user.id)).secondFactorLockedUntil).toBeNull();
  });

  it("resets the counter after a correct recovery code", async () => {
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    for (let i = 0; i < 4; i++) await guessTotp(user, challenge);
    expect((await completeSignIn(t.db, { challenge, method: "recovery", code: user.recoveryCodes[0] }, CONTEXT)).ok).toBe(true);
    expect((await userRow(t.db, user.id)).secondFactorFailures).toBe(0);
  });

  it("lets the right code in once the lock has run out, and doubles the next lock to 30 minutes", async () => {
    const user = await enrolledUser(t.db);
    for (let i = 0; i < 5; i++) await guessTotp(user);
    await endLock(user);
    // Another 5 wrong codes after the first lock: this lock lasts twice as long.
    for (let i = 0; i < 5; i++) await guessTotp(user);
    const now = await databaseNow(t.db);
    const row = await userRow(t.db, user.id);
    expect(row.secondFactorLockouts).toBe(2);
    expectWithin(row.secondFactorLockedUntil, new Date(now.getTime() + 2 * LOCKOUT_BASE_SECONDS * 1000), 30_000);

    await endLock(user);
    await rewindLastUsedStep(t.db, user.id);
    expect((await rightTotp(user, await openChallenge(t.db, user))).ok).toBe(true);
    const after = await userRow(t.db, user.id);
    expect(after).toMatchObject({ secondFactorFailures: 0, secondFactorLockouts: 0, secondFactorLockedUntil: null });
  });

  it("caps the lock at one day however many locks came before", async () => {
    const user = await enrolledUser(t.db);
    await t.db.update(users).set({ secondFactorLockouts: 20, secondFactorFailures: 4 }).where(eq(users.id, user.id));
    expect(await guessTotp(user)).toEqual({ ok: false, error: "locked_out" });
    const now = await databaseNow(t.db);
    expectWithin((await userRow(t.db, user.id)).secondFactorLockedUntil, new Date(now.getTime() + 24 * 3600 * 1000), 30_000);
  });

  it("counts every one of many wrong codes sent in parallel (no lost updates)", async () => {
    const user = await enrolledUser(t.db);
    const challenges = await Promise.all(Array.from({ length: 12 }, () => openChallenge(t.db, user)));
    const results = await Promise.all(challenges.map((challenge) => guessTotp(user, challenge)));
    for (const result of results) expect(result.ok).toBe(false);
    const row = await userRow(t.db, user.id);
    const counted = row.secondFactorLockouts * MAX_SECOND_FACTOR_FAILURES + row.secondFactorFailures;
    const audited = (await eventNamesAbout(t.db, user.id)).filter((e) => e === "sign_in.code_failed").length;
    // Requests that arrived after the lock were refused before counting; every other one counted.
    expect(counted).toBe(audited);
    expect(counted).toBeGreaterThanOrEqual(MAX_SECOND_FACTOR_FAILURES);
    expect(row.secondFactorLockedUntil).not.toBeNull();
    expect(results.filter((r) => !r.ok && r.error === "locked_out").length).toBeGreaterThanOrEqual(1);
  });
});
