import { and, eq, isNotNull, isNull } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { recoveryCodes } from "@/db/schema";
import { completeSignIn, type SecondStepResult } from "@/lib/auth/second-step";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { disableTwoFactor, regenerateRecoveryCodes } from "@/lib/two-factor/manage";
import { hashRecoveryCode, normaliseRecoveryCode } from "@/lib/two-factor/recovery-codes";
import { testDrivers, useTestDatabase } from "./support/databases";
import {
  codeAt,
  CONTEXT,
  enrolledUser,
  eventNamesAbout,
  newUser,
  openChallenge,
  openChallenges,
  totpRow,
} from "./support/fixtures";

const PARALLEL = 50;
const successes = (results: SecondStepResult[]) => results.filter((r) => r.ok).length;

/**
 * Several requests racing with one secret: the database decides, through one
 * compare-and-set each for the TOTP step, the recovery code and the challenge.
 */
describe.each(testDrivers())("replay races on %s", (driver) => {
  const t = useTestDatabase(driver);

  it(`lets one TOTP code sign in once when sent on ${PARALLEL} fresh challenges at the same moment`, async () => {
    const user = await enrolledUser(t.db);
    const challenges = await openChallenges(t.db, user, PARALLEL);
    const code = codeAt(user.secret);
    const results = await Promise.all(
      challenges.map((challenge) => completeSignIn(t.db, { challenge, method: "totp", code }, CONTEXT)),
    );
    expect(successes(results)).toBe(1);
    for (const r of results) if (!r.ok) expect(["code_invalid", "locked_out"]).toContain(r.error);
    const events = await eventNamesAbout(t.db, user.id);
    expect(events.filter((e) => e === "sign_in.succeeded")).toHaveLength(1);
    expect(events.filter((e) => e === "sign_in.code_replayed").length).toBeGreaterThanOrEqual(1);
  });

  it(`lets one recovery code sign in once when sent on ${PARALLEL} fresh challenges at the same moment`, async () => {
    const user = await enrolledUser(t.db);
    const challenges = await openChallenges(t.db, user, PARALLEL);
    const code = user.recoveryCodes[0];
    const results = await Promise.all(
      challenges.map((challenge) => completeSignIn(t.db, { challenge, method: "recovery", code }, CONTEXT)),
    );
    expect(successes(results)).toBe(1);
    for (const r of results) if (!r.ok) expect(["recovery_invalid", "locked_out"]).toContain(r.error);
    const used = await t.db
      .select()
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.userId, user.id), isNotNull(recoveryCodes.usedAt)));
    expect(used).toHaveLength(1);
    expect((await eventNamesAbout(t.db, user.id)).filter((e) => e === "recovery_code.used")).toHaveLength(1);
  });

  it(`lets one challenge sign in once when ${PARALLEL} requests carry it at the same moment`, async () => {
    const user = await newUser(t.db);
    const challenge = await openChallenge(t.db, user);
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, () => completeSignIn(t.db, { challenge, method: "none", code: "" }, CONTEXT)),
    );
    expect(successes(results)).toBe(1);
    for (const r of results) if (!r.ok) expect(r.error).toBe("challenge_expired");
  });

  it("lets one challenge sign in once even with a different valid recovery code on each request, spending only one code", async () => {
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    const results = await Promise.all(
      user.recoveryCodes.map((code) => completeSignIn(t.db, { challenge, method: "recovery", code }, CONTEXT)),
    );
    expect(successes(results)).toBe(1);
    const unused = await t.db
      .select()
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.userId, user.id), isNull(recoveryCodes.usedAt)));
    expect(unused).toHaveLength(user.recoveryCodes.length - 1);
  });

  it("lets one challenge sign in once when the same TOTP code is sent on it in parallel", async () => {
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    const code = codeAt(user.secret);
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, () => completeSignIn(t.db, { challenge, method: "totp", code }, CONTEXT)),
    );
    expect(successes(results)).toBe(1);
  });

  it("lets one TOTP code pass one step-up check when sent to regenerate recovery codes several times at once", async () => {
    const user = await enrolledUser(t.db);
    const code = codeAt(user.secret);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => regenerateRecoveryCodes(t.db, user.id, code, CONTEXT)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect((await eventNamesAbout(t.db, user.id)).filter((e) => e === "recovery_codes.regenerated")).toHaveLength(1);
  });

  it("lets one TOTP code either disable 2FA or regenerate codes, not both, when sent to both at once", async () => {
    const user = await enrolledUser(t.db);
    const code = codeAt(user.secret);
    const [disabled, regenerated] = await Promise.all([
      disableTwoFactor(t.db, user.id, code, CONTEXT),
      regenerateRecoveryCodes(t.db, user.id, code, CONTEXT),
    ]);
    expect([typeof disabled !== "string", regenerated.ok].filter(Boolean)).toHaveLength(1);
  });

  it("confirms one enrollment when the same code is submitted twice at once, keeping the winner's recovery codes", async () => {
    const user = await newUser(t.db);
    const started = await startEnrollment(t.db, user);
    if (!started.ok) throw new Error(started.error);
    const code = codeAt(started.secret);
    const results = await Promise.all([1, 2, 3].map(() => confirmEnrollment(t.db, user.id, code, CONTEXT)));
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    for (const r of results) if (!r.ok) expect(r.error).toBe("already_enabled");
    expect((await totpRow(t.db, user.id))!.enabledAt).not.toBeNull();
    expect((await eventNamesAbout(t.db, user.id)).filter((e) => e === "two_factor.enabled")).toHaveLength(1);

    // The stored set is exactly the one shown to the winner.
    const winnerCodes = (winners[0] as { recoveryCodes: string[] }).recoveryCodes;
    const stored = await t.db.select({ codeHash: recoveryCodes.codeHash }).from(recoveryCodes).where(eq(recoveryCodes.userId, user.id));
    expect(stored.map((r) => r.codeHash).sort()).toEqual(
      winnerCodes.map((c) => hashRecoveryCode(user.id, normaliseRecoveryCode(c))).sort(),
    );
  });
});
