import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { signInChallenges } from "@/db/schema";
import { createChallenge } from "@/lib/auth/challenge";
import { completeSignIn } from "@/lib/auth/second-step";
import { sha256Hex } from "@/lib/crypto";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, CONTEXT, enrolledUser, newUser, openChallenge, totpRow, userRow } from "./support/fixtures";

/** The server-side state between the password step and the second step. */
describe.each(testDrivers())("sign-in challenge on %s", (driver) => {
  const t = useTestDatabase(driver);

  const expire = (challenge: string) =>
    t.db
      .update(signInChallenges)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(signInChallenges.tokenHash, sha256Hex(challenge)));

  it("is single use: a second completion with it is refused", async () => {
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    expect((await completeSignIn(t.db, { challenge, method: "recovery", code: user.recoveryCodes[0] }, CONTEXT)).ok).toBe(true);
    expect(await completeSignIn(t.db, { challenge, method: "recovery", code: user.recoveryCodes[1] }, CONTEXT)).toEqual({
      ok: false,
      error: "challenge_expired",
    });
  });

  it("is single use without a second factor too", async () => {
    const user = await newUser(t.db);
    const challenge = await openChallenge(t.db, user);
    expect((await completeSignIn(t.db, { challenge, method: "none", code: "" }, CONTEXT)).ok).toBe(true);
    expect(await completeSignIn(t.db, { challenge, method: "none", code: "" }, CONTEXT)).toEqual({
      ok: false,
      error: "challenge_expired",
    });
  });

  it("expires after its 5 minutes, even with a valid code, which stays unused", async () => {
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    await expire(challenge);
    const stepBefore = (await totpRow(t.db, user.id))!.lastUsedStep;
    expect(await completeSignIn(t.db, { challenge, method: "totp", code: codeAt(user.secret) }, CONTEXT)).toEqual({
      ok: false,
      error: "challenge_expired",
    });
    expect((await totpRow(t.db, user.id))!.lastUsedStep).toBe(stepBefore);
    expect((await userRow(t.db, user.id)).secondFactorFailures).toBe(0);
    // The same code still works on a fresh challenge.
    const fresh = await openChallenge(t.db, user);
    expect((await completeSignIn(t.db, { challenge: fresh, method: "totp", code: codeAt(user.secret) }, CONTEXT)).ok).toBe(true);
  });

  it("expires for method none too", async () => {
    const user = await newUser(t.db);
    const challenge = await openChallenge(t.db, user);
    await expire(challenge);
    expect(await completeSignIn(t.db, { challenge, method: "none", code: "" }, CONTEXT)).toEqual({
      ok: false,
      error: "challenge_expired",
    });
  });

  it.each([
    ["an unknown token", () => randomBytes(32).toString("base64url")],
    ["an empty token", () => ""],
    ["an over-long token", () => "a".repeat(101)],
    ["the token's stored hash instead of the token", () => sha256Hex("x")],
  ])("refuses %s", async (_what, token) => {
    const user = await newUser(t.db);
    await openChallenge(t.db, user);
    expect(await completeSignIn(t.db, { challenge: token(), method: "none", code: "" }, CONTEXT)).toEqual({
      ok: false,
      error: "challenge_expired",
    });
  });

  it("refuses the stored hash of a live challenge used as the token (only the cookie's token opens it)", async () => {
    const user = await newUser(t.db);
    const challenge = await openChallenge(t.db, user);
    expect(await completeSignIn(t.db, { challenge: sha256Hex(challenge), method: "none", code: "" }, CONTEXT)).toEqual({
      ok: false,
      error: "challenge_expired",
    });
  });

  it("opened for enrollment cannot complete a sign-in", async () => {
    const user = await newUser(t.db);
    const token = (await createChallenge(t.db, user.id, "enroll"))!;
    expect(await completeSignIn(t.db, { challenge: token, method: "none", code: "" }, CONTEXT)).toEqual({
      ok: false,
      error: "challenge_expired",
    });
  });
});
