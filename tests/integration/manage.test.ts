import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { recoveryCodes, totpCredentials, trustedBrowsers } from "@/db/schema";
import { completeSignIn } from "@/lib/auth/second-step";
import { isSecondFactorDue, passwordStep } from "@/lib/auth/sign-in";
import { sha256Hex } from "@/lib/crypto";
import { startEnrollment } from "@/lib/two-factor/enrollment";
import { disableTwoFactor, regenerateRecoveryCodes, twoFactorStatus } from "@/lib/two-factor/manage";
import { testDrivers, useTestDatabase } from "./support/databases";
import {
  codeAt,
  CONTEXT,
  enrolledUser,
  eventNamesAbout,
  eventsAbout,
  newUser,
  openChallenge,
  userRow,
  wrongCode,
} from "./support/fixtures";

describe.each(testDrivers())("managing 2FA on %s", (driver) => {
  const t = useTestDatabase(driver);

  const rowsOf = async (userId: string) => ({
    credentials: await t.db.select().from(totpCredentials).where(eq(totpCredentials.userId, userId)),
    recoveryCodes: await t.db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, userId)),
    trustedBrowsers: await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, userId)),
  });

  describe("status", () => {
    it("reports enrollment and unused recovery codes, nothing secret", async () => {
      const plain = await newUser(t.db);
      expect(await twoFactorStatus(t.db, plain.id, "user")).toEqual({ instanceEnabled: true, enabled: false, totp: false, passkeySignIn: false, recoveryCodesLeft: 0, requiredInDays: null });
      const user = await enrolledUser(t.db);
      expect(await twoFactorStatus(t.db, user.id, "user")).toEqual({ instanceEnabled: true, enabled: true, totp: true, passkeySignIn: false, recoveryCodesLeft: 10, requiredInDays: null });
      await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "recovery", code: user.recoveryCodes[0] }, CONTEXT);
      expect((await twoFactorStatus(t.db, user.id, "user")).recoveryCodesLeft).toBe(9);
    });
  });

  describe("disable", () => {
    it("removes the secret, the recovery codes and trusted browsers, ends other sessions and audits", async () => {
      const user = await enrolledUser(t.db);
      await t.db.insert(trustedBrowsers).values({
        userId: user.id,
        tokenHash: sha256Hex(`browser-${user.id}`),
        description: "Firefox on Linux",
        expiresAt: sql`now() + interval '30 days'`,
      });
      const before = (await userRow(t.db, user.id)).sessionVersion;
      expect(await disableTwoFactor(t.db, user.id, codeAt(user.secret), CONTEXT)).toMatchObject({ ok: true });
      expect(await rowsOf(user.id)).toEqual({ credentials: [], recoveryCodes: [], trustedBrowsers: [] });
      expect((await userRow(t.db, user.id)).sessionVersion).toBe(before + 1);
      expect((await eventsAbout(t.db, user.id)).at(-1)).toMatchObject({ event: "two_factor.disabled", actorUserId: user.id });
      expect(await isSecondFactorDue(t.db, user.id)).toBe(false);
      expect(await passwordStep(t.db, { email: user.email, password: user.password }, CONTEXT)).toMatchObject({
        ok: true,
        secondFactorDue: false,
      });
    });

    it("refuses without a current code (a stolen session cannot turn 2FA off) and counts the failure", async () => {
      const user = await enrolledUser(t.db);
      expect(await disableTwoFactor(t.db, user.id, wrongCode(user.secret), CONTEXT)).toBe("invalid");
      expect((await rowsOf(user.id)).credentials).toHaveLength(1);
      expect((await userRow(t.db, user.id)).secondFactorFailures).toBe(1);
      expect((await eventsAbout(t.db, user.id)).at(-1)).toMatchObject({
        event: "sign_in.code_failed",
        details: { during: "step_up" },
      });
    });

    it("refuses a code already used to sign in (replay)", async () => {
      const user = await enrolledUser(t.db);
      const code = codeAt(user.secret);
      expect((await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "totp", code }, CONTEXT)).ok).toBe(
        true,
      );
      expect(await disableTwoFactor(t.db, user.id, code, CONTEXT)).toBe("invalid");
      expect((await eventNamesAbout(t.db, user.id)).at(-1)).toBe("sign_in.code_replayed");
      expect((await rowsOf(user.id)).credentials).toHaveLength(1);
    });

    it("refuses a recovery code in place of a current TOTP code", async () => {
      const user = await enrolledUser(t.db);
      expect(await disableTwoFactor(t.db, user.id, user.recoveryCodes[0], CONTEXT)).toBe("invalid");
      expect((await rowsOf(user.id)).credentials).toHaveLength(1);
    });

    it("locks after 5 wrong codes, shared with sign-in, and then refuses the right code (no brute force from a session)", async () => {
      const user = await enrolledUser(t.db);
      for (let i = 1; i < 5; i++) expect(await disableTwoFactor(t.db, user.id, wrongCode(user.secret), CONTEXT)).toBe("invalid");
      expect(await disableTwoFactor(t.db, user.id, wrongCode(user.secret), CONTEXT)).toBe("locked_out");
      expect(await disableTwoFactor(t.db, user.id, codeAt(user.secret), CONTEXT)).toBe("locked_out");
      expect(await disableTwoFactor(t.db, user.id, wrongCode(user.secret), CONTEXT)).toBe("locked_out"); // same answer
      expect((await rowsOf(user.id)).credentials).toHaveLength(1);
      // The lock is the account's: the sign-in step is locked too.
      const challenge = await openChallenge(t.db, user);
      expect(await completeSignIn(t.db, { challenge, method: "totp", code: codeAt(user.secret) }, CONTEXT)).toEqual({
        ok: false,
        error: "locked_out",
      });
    });

    it("answers not_enabled for a user without 2FA", async () => {
      const user = await newUser(t.db);
      expect(await disableTwoFactor(t.db, user.id, "123456", CONTEXT)).toBe("not_enabled");
    });

    it("lets a user enroll again after disabling", async () => {
      const user = await enrolledUser(t.db);
      expect(await disableTwoFactor(t.db, user.id, codeAt(user.secret), CONTEXT)).toMatchObject({ ok: true });
      expect((await startEnrollment(t.db, user)).ok).toBe(true);
    });
  });

  describe("regenerate recovery codes", () => {
    it("replaces the set after a current code: the old codes stop working, the new ones work", async () => {
      const user = await enrolledUser(t.db);
      const result = await regenerateRecoveryCodes(t.db, user.id, codeAt(user.secret), CONTEXT);
      expect(result).toEqual({ ok: true, recoveryCodes: expect.any(Array) });
      const fresh = (result as { recoveryCodes: string[] }).recoveryCodes;
      expect(fresh).toHaveLength(10);
      expect(fresh.filter((c) => user.recoveryCodes.includes(c))).toEqual([]);
      expect((await rowsOf(user.id)).recoveryCodes).toHaveLength(10);

      const old = await completeSignIn(
        t.db,
        { challenge: await openChallenge(t.db, user), method: "recovery", code: user.recoveryCodes[0] },
        CONTEXT,
      );
      expect(old).toEqual({ ok: false, error: "recovery_invalid" });
      const now = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "recovery", code: fresh[0] }, CONTEXT);
      expect(now.ok).toBe(true);
      expect(await eventNamesAbout(t.db, user.id)).toContain("recovery_codes.regenerated");
    });

    it("gives back a full set when some codes were used", async () => {
      const user = await enrolledUser(t.db);
      await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "recovery", code: user.recoveryCodes[0] }, CONTEXT);
      expect((await twoFactorStatus(t.db, user.id, "user")).recoveryCodesLeft).toBe(9);
      expect((await regenerateRecoveryCodes(t.db, user.id, codeAt(user.secret), CONTEXT)).ok).toBe(true);
      expect((await twoFactorStatus(t.db, user.id, "user")).recoveryCodesLeft).toBe(10);
    });

    it("refuses without a current code and keeps the old set", async () => {
      const user = await enrolledUser(t.db);
      const before = (await rowsOf(user.id)).recoveryCodes.map((r) => r.codeHash).sort();
      expect(await regenerateRecoveryCodes(t.db, user.id, wrongCode(user.secret), CONTEXT)).toEqual({
        ok: false,
        error: "invalid",
      });
      expect((await rowsOf(user.id)).recoveryCodes.map((r) => r.codeHash).sort()).toEqual(before);
    });

    it("spends the code it was given: the same code cannot regenerate twice", async () => {
      const user = await enrolledUser(t.db);
      const code = codeAt(user.secret);
      expect((await regenerateRecoveryCodes(t.db, user.id, code, CONTEXT)).ok).toBe(true);
      expect(await regenerateRecoveryCodes(t.db, user.id, code, CONTEXT)).toEqual({ ok: false, error: "invalid" });
    });

    it("answers not_enabled for a user without 2FA", async () => {
      const user = await newUser(t.db);
      expect(await regenerateRecoveryCodes(t.db, user.id, "123456", CONTEXT)).toEqual({ ok: false, error: "not_enabled" });
    });
  });
});
