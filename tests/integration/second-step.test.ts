import { randomBytes } from "node:crypto";
import { and, eq, isNotNull } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { recoveryCodes, sessions, signInChallenges } from "@/db/schema";
import { completeSignIn } from "@/lib/auth/second-step";
import { sha256Hex } from "@/lib/crypto";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { testDrivers, useTestDatabase } from "./support/databases";
import {
  codeAt,
  CONTEXT,
  currentStep,
  enrolledUser,
  eventNamesAbout,
  eventsAbout,
  newUser,
  openChallenge,
  totpRow,
  userRow,
  wrongCode,
} from "./support/fixtures";

describe.each(testDrivers())("second step on %s", (driver) => {
  const t = useTestDatabase(driver);

  const challengeExists = async (challenge: string) =>
    (await t.db.select().from(signInChallenges).where(eq(signInChallenges.tokenHash, sha256Hex(challenge)))).length === 1;

  describe("with a TOTP code", () => {
    it("signs in with the current code and consumes the challenge and the code's step", async () => {
      const user = await enrolledUser(t.db);
      const challenge = await openChallenge(t.db, user);
      const stepBefore = currentStep();
      const result = await completeSignIn(t.db, { challenge, method: "totp", code: codeAt(user.secret) }, CONTEXT);
      expect(result).toEqual({
        ok: true,
        user: { id: user.id, name: user.name, email: user.email, role: "user", sessionVersion: 1 },
        sid: expect.any(String),
      });
      expect(await challengeExists(challenge)).toBe(false);
      // The session's row is written with the challenge's consumption, with this request's IP and browser.
      const sid = (result as { sid: string }).sid;
      expect(await t.db.select().from(sessions).where(eq(sessions.sid, sid))).toMatchObject([
        { userId: user.id, sessionVersion: 1, ip: CONTEXT.ip, userAgent: CONTEXT.userAgent },
      ]);
      expect((await totpRow(t.db, user.id))!.lastUsedStep).toBeGreaterThanOrEqual(stepBefore);
      expect((await eventsAbout(t.db, user.id)).at(-1)).toMatchObject({
        event: "sign_in.succeeded",
        actorUserId: user.id,
        ip: CONTEXT.ip,
        details: { factor: "totp" },
      });
    });

    it("accepts the previous step's code (one step of clock drift)", async () => {
      const user = await enrolledUser(t.db);
      const challenge = await openChallenge(t.db, user);
      const result = await completeSignIn(t.db, { challenge, method: "totp", code: codeAt(user.secret, -1) }, CONTEXT);
      expect(result.ok).toBe(true);
    });

    it("refuses a wrong code, counts it, audits it, and keeps the challenge for another try", async () => {
      const user = await enrolledUser(t.db);
      const challenge = await openChallenge(t.db, user);
      const result = await completeSignIn(t.db, { challenge, method: "totp", code: wrongCode(user.secret) }, CONTEXT);
      expect(result).toEqual({ ok: false, error: "code_invalid" });
      expect((await userRow(t.db, user.id)).secondFactorFailures).toBe(1);
      expect((await eventNamesAbout(t.db, user.id)).at(-1)).toBe("sign_in.code_failed");
      expect(await challengeExists(challenge)).toBe(true);
      expect((await completeSignIn(t.db, { challenge, method: "totp", code: codeAt(user.secret) }, CONTEXT)).ok).toBe(true);
    });

    it("refuses a code from the future (step T+2), as from a phone whose clock runs fast", async () => {
      const user = await enrolledUser(t.db);
      const challenge = await openChallenge(t.db, user);
      expect(await completeSignIn(t.db, { challenge, method: "totp", code: codeAt(user.secret, 2) }, CONTEXT)).toEqual({
        ok: false,
        error: "code_invalid",
      });
    });

    it("refuses a code replayed on a new sign-in (a code seen over the shoulder is worthless once used)", async () => {
      const user = await enrolledUser(t.db);
      const code = codeAt(user.secret);
      const first = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "totp", code }, CONTEXT);
      expect(first.ok).toBe(true);
      const again = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "totp", code }, CONTEXT);
      expect(again).toEqual({ ok: false, error: "code_invalid" });
      expect((await eventNamesAbout(t.db, user.id)).at(-1)).toBe("sign_in.code_replayed");
    });

    it("refuses the code that confirmed enrollment (it was consumed then)", async () => {
      const user = await newUser(t.db);
      const started = await startEnrollment(t.db, user);
      if (!started.ok) throw new Error(started.error);
      const code = codeAt(started.secret);
      expect((await confirmEnrollment(t.db, user.id, code, CONTEXT)).ok).toBe(true);
      const challenge = await openChallenge(t.db, user);
      expect(await completeSignIn(t.db, { challenge, method: "totp", code }, CONTEXT)).toEqual({
        ok: false,
        error: "code_invalid",
      });
    });

    it("refuses another account's valid code", async () => {
      const alice = await enrolledUser(t.db);
      const mallory = await enrolledUser(t.db);
      const challenge = await openChallenge(t.db, alice);
      expect(await completeSignIn(t.db, { challenge, method: "totp", code: codeAt(mallory.secret) }, CONTEXT)).toEqual({
        ok: false,
        error: "code_invalid",
      });
    });

    it.each([
      ["empty", ""],
      ["five digits", "12345"],
      ["seven digits", "1234567"],
      ["Arabic-Indic digits", "١٢٣٤٥٦"],
      ["letters", "abcdef"],
      ["10 KB", "x".repeat(10_000)],
    ])("refuses a malformed code (%s) as invalid without throwing", async (_what, code) => {
      const user = await enrolledUser(t.db);
      const challenge = await openChallenge(t.db, user);
      expect(await completeSignIn(t.db, { challenge, method: "totp", code }, CONTEXT)).toEqual({
        ok: false,
        error: "code_invalid",
      });
    });

    describe("when the secret cannot be decrypted (TOTP_ENCRYPTION_KEY replaced)", () => {
      const state = globalThis as typeof globalThis & { __secrets?: unknown };
      const originalKeys = process.env.TOTP_ENCRYPTION_KEY;
      afterEach(() => {
        process.env.TOTP_ENCRYPTION_KEY = originalKeys;
        state.__secrets = undefined;
        vi.restoreAllMocks();
      });

      it("fails closed: the right code is refused, nothing throws", async () => {
        const user = await enrolledUser(t.db);
        const challenge = await openChallenge(t.db, user);
        process.env.TOTP_ENCRYPTION_KEY = randomBytes(32).toString("base64");
        state.__secrets = undefined;
        const logged = vi.spyOn(console, "error").mockImplementation(() => {});
        const result = await completeSignIn(t.db, { challenge, method: "totp", code: codeAt(user.secret) }, CONTEXT);
        expect(result).toEqual({ ok: false, error: "code_invalid" });
        expect(logged).toHaveBeenCalledWith(expect.stringContaining(user.id));
        expect(await challengeExists(challenge)).toBe(true);
      });
    });
  });

  describe("with a recovery code", () => {
    it("signs in with a code as printed, marks it used, and audits it", async () => {
      const user = await enrolledUser(t.db);
      const challenge = await openChallenge(t.db, user);
      const result = await completeSignIn(t.db, { challenge, method: "recovery", code: user.recoveryCodes[0] }, CONTEXT);
      expect(result).toMatchObject({ ok: true, user: { id: user.id } });
      const used = await t.db
        .select()
        .from(recoveryCodes)
        .where(and(eq(recoveryCodes.userId, user.id), isNotNull(recoveryCodes.usedAt)));
      expect(used).toHaveLength(1);
      const events = await eventsAbout(t.db, user.id);
      expect(events.map((e) => e.event).slice(-2)).toEqual(["recovery_code.used", "sign_in.succeeded"]);
      expect(events.at(-1)!.details).toEqual({ factor: "recovery_code" });
    });

    it("signs in with a new 120-bit code: six groups of four", async () => {
      const user = await enrolledUser(t.db);
      expect(user.recoveryCodes[3]).toMatch(/^[0-9a-z]{4}(-[0-9a-z]{4}){5}$/);
      const result = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "recovery", code: user.recoveryCodes[3] }, CONTEXT);
      expect(result).toMatchObject({ ok: true, user: { id: user.id } });
    });

    it("an 80-bit code handed out before the longer codes still signs in, once", async () => {
      const user = await enrolledUser(t.db);
      // A row as the earlier release stored it: SHA-256 of "user id:16 normalised characters".
      const oldCode = "7k2m-9qx4-h8dz-p3vw";
      await t.db.insert(recoveryCodes).values({ userId: user.id, codeHash: sha256Hex(`${user.id}:7k2m9qx4h8dzp3vw`) });
      const first = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "recovery", code: oldCode.toUpperCase() }, CONTEXT);
      expect(first).toMatchObject({ ok: true, user: { id: user.id } });
      const again = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "recovery", code: oldCode }, CONTEXT);
      expect(again).toEqual({ ok: false, error: "recovery_invalid" });
    });

    it("accepts a code typed in capitals with spaces and look-alike letters", async () => {
      const user = await enrolledUser(t.db);
      const typed = user.recoveryCodes[1].toUpperCase().replaceAll("-", " ").replaceAll("0", "O").replaceAll("1", "l");
      const result = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "recovery", code: typed }, CONTEXT);
      expect(result.ok).toBe(true);
    });

    it("refuses a recovery code used before", async () => {
      const user = await enrolledUser(t.db);
      const code = user.recoveryCodes[2];
      expect((await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "recovery", code }, CONTEXT)).ok).toBe(
        true,
      );
      const again = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "recovery", code }, CONTEXT);
      expect(again).toEqual({ ok: false, error: "recovery_invalid" });
      expect((await userRow(t.db, user.id)).secondFactorFailures).toBe(1);
    });

    it("refuses another account's recovery code", async () => {
      const alice = await enrolledUser(t.db);
      const mallory = await enrolledUser(t.db);
      const challenge = await openChallenge(t.db, alice);
      expect(await completeSignIn(t.db, { challenge, method: "recovery", code: mallory.recoveryCodes[0] }, CONTEXT)).toEqual({
        ok: false,
        error: "recovery_invalid",
      });
    });

    it.each([
      ["empty", ""],
      ["one character short", "abcd-efgh-jkmn-pqrs-tvwx-yz0"],
      ["one character short of an older code", "abcd-efgh-jkmn-pqr"],
      ["between the two lengths", "abcd-efgh-jkmn-pqrs-tvwx"],
      ["words", "not a code"],
      ["outside the alphabet", "u".repeat(16)],
      ["10 KB", "a".repeat(10_000)],
    ])("refuses a malformed recovery code (%s) and counts it", async (_what, code) => {
      const user = await enrolledUser(t.db);
      const challenge = await openChallenge(t.db, user);
      expect(await completeSignIn(t.db, { challenge, method: "recovery", code }, CONTEXT)).toEqual({
        ok: false,
        error: "recovery_invalid",
      });
      expect((await userRow(t.db, user.id)).secondFactorFailures).toBe(1);
    });
  });

  describe('with method "none"', () => {
    it("signs in a user who owes no second factor", async () => {
      const user = await newUser(t.db);
      const challenge = await openChallenge(t.db, user);
      const result = await completeSignIn(t.db, { challenge, method: "none", code: "" }, CONTEXT);
      expect(result).toMatchObject({ ok: true, user: { id: user.id, sessionVersion: 0 } });
      expect((await eventsAbout(t.db, user.id)).at(-1)).toMatchObject({
        event: "sign_in.succeeded",
        details: { factor: "password" },
      });
    });

    it("refuses to skip the code when 2FA is due (a forged method field)", async () => {
      const user = await enrolledUser(t.db);
      const challenge = await openChallenge(t.db, user);
      expect(await completeSignIn(t.db, { challenge, method: "none", code: "" }, CONTEXT)).toEqual({
        ok: false,
        error: "challenge_expired",
      });
      expect(await eventNamesAbout(t.db, user.id)).not.toContain("sign_in.succeeded");
    });
  });
});
