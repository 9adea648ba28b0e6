import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { recoveryCodes, totpCredentials } from "@/db/schema";
import { completeSignIn } from "@/lib/auth/second-step";
import { isSecondFactorDue } from "@/lib/auth/sign-in";
import { decryptSecret } from "@/lib/crypto";
import { confirmEnrollment, ENROLLMENT_TTL_SECONDS, startEnrollment } from "@/lib/two-factor/enrollment";
import { hashRecoveryCode, normaliseRecoveryCode } from "@/lib/two-factor/recovery-codes";
import { testDrivers, useTestDatabase } from "./support/databases";
import {
  codeAt,
  CONTEXT,
  currentStep,
  eventsAbout,
  newUser,
  openChallenge,
  totpRow,
  userRow,
  wrongCode,
  type TestUser,
} from "./support/fixtures";

describe.each(testDrivers())("TOTP enrollment on %s", (driver) => {
  const t = useTestDatabase(driver);

  async function start(user: TestUser): Promise<string> {
    const started = await startEnrollment(t.db, user);
    if (!started.ok) throw new Error(`startEnrollment: ${started.error}`);
    return started.secret;
  }

  describe("start", () => {
    it("returns a new secret and its otpauth URI, and stores the secret only encrypted", async () => {
      const user = await newUser(t.db);
      const started = await startEnrollment(t.db, user);
      expect(started).toEqual({ ok: true, secret: expect.stringMatching(/^[A-Z2-7]{32}$/), uri: expect.any(String) });
      const { secret, uri } = started as { secret: string; uri: string };
      expect(new URL(uri).searchParams.get("secret")).toBe(secret);
      const row = await totpRow(t.db, user.id);
      expect(row).toMatchObject({ enabledAt: null, lastUsedStep: null });
      expect(row!.secretCiphertext).not.toContain(secret);
      expect(decryptSecret(row!.secretCiphertext, user.id)).toBe(secret);
    });

    it("does not ask for a code at sign-in until enrollment is confirmed", async () => {
      const user = await newUser(t.db);
      await start(user);
      expect(await isSecondFactorDue(t.db, user.id)).toBe(false);
    });

    it("replaces an unconfirmed secret when started again; the first secret's codes no longer confirm", async () => {
      const user = await newUser(t.db);
      const first = await start(user);
      const second = await start(user);
      expect(second).not.toBe(first);
      expect(await confirmEnrollment(t.db, user.id, codeAt(first), CONTEXT)).toEqual({ ok: false, error: "code_invalid" });
      expect((await confirmEnrollment(t.db, user.id, codeAt(second), CONTEXT)).ok).toBe(true);
    });

    it("never overwrites an enabled credential (a stolen session cannot swap in its own secret)", async () => {
      const user = await newUser(t.db);
      const secret = await start(user);
      expect((await confirmEnrollment(t.db, user.id, codeAt(secret), CONTEXT)).ok).toBe(true);
      const before = await totpRow(t.db, user.id);
      expect(await startEnrollment(t.db, user)).toEqual({ ok: false, error: "already_enabled" });
      expect(await totpRow(t.db, user.id)).toEqual(before);
    });
  });

  describe("confirm", () => {
    it("turns 2FA on with a code from the app and returns 10 recovery codes", async () => {
      const user = await newUser(t.db);
      const secret = await start(user);
      const step = currentStep();
      const result = await confirmEnrollment(t.db, user.id, codeAt(secret), CONTEXT);
      expect(result).toEqual({ ok: true, recoveryCodes: expect.any(Array), challenge: null, sessionVersion: 1 });
      const codes = (result as { recoveryCodes: string[] }).recoveryCodes;
      expect(codes).toHaveLength(10);
      const row = await totpRow(t.db, user.id);
      expect(row!.enabledAt).not.toBeNull();
      expect(row!.lastUsedStep).toBeGreaterThanOrEqual(step); // the confirming code is spent
      expect(await isSecondFactorDue(t.db, user.id)).toBe(true);
    });

    it("stores the recovery codes only as salted hashes", async () => {
      const user = await newUser(t.db);
      const result = await confirmEnrollment(t.db, user.id, codeAt(await start(user)), CONTEXT);
      const codes = (result as { recoveryCodes: string[] }).recoveryCodes;
      const rows = await t.db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, user.id));
      expect(rows).toHaveLength(10);
      const stored = rows.map((r) => r.codeHash);
      expect(stored.sort()).toEqual(codes.map((c) => hashRecoveryCode(user.id, normaliseRecoveryCode(c))).sort());
      const dump = JSON.stringify(rows);
      for (const code of codes) {
        expect(dump).not.toContain(code);
        expect(dump).not.toContain(normaliseRecoveryCode(code));
      }
    });

    it("signs out every other session (sessionVersion bumped) and audits the change", async () => {
      const user = await newUser(t.db);
      const before = (await userRow(t.db, user.id)).sessionVersion;
      await confirmEnrollment(t.db, user.id, codeAt(await start(user)), CONTEXT);
      expect((await userRow(t.db, user.id)).sessionVersion).toBe(before + 1);
      expect((await eventsAbout(t.db, user.id)).at(-1)).toMatchObject({
        event: "two_factor.enabled",
        actorUserId: user.id,
        ip: CONTEXT.ip,
        details: null,
      });
    });

    it("refuses a wrong code and leaves 2FA off with no recovery codes", async () => {
      const user = await newUser(t.db);
      const secret = await start(user);
      expect(await confirmEnrollment(t.db, user.id, wrongCode(secret), CONTEXT)).toEqual({ ok: false, error: "code_invalid" });
      expect((await totpRow(t.db, user.id))!.enabledAt).toBeNull();
      expect(await t.db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, user.id))).toHaveLength(0);
      expect((await userRow(t.db, user.id)).sessionVersion).toBe(0);
    });

    it("refuses a malformed code without throwing", async () => {
      const user = await newUser(t.db);
      await start(user);
      for (const code of ["", "12 34 56", "١٢٣٤٥٦", "x".repeat(10_000)]) {
        expect(await confirmEnrollment(t.db, user.id, code, CONTEXT)).toEqual({ ok: false, error: "code_invalid" });
      }
    });

    it("refuses to confirm when enrollment was never started", async () => {
      const user = await newUser(t.db);
      expect(await confirmEnrollment(t.db, user.id, "123456", CONTEXT)).toEqual({ ok: false, error: "expired" });
    });

    it("refuses an enrollment older than 15 minutes", async () => {
      expect(ENROLLMENT_TTL_SECONDS).toBe(15 * 60);
      const user = await newUser(t.db);
      const secret = await start(user);
      await t.db
        .update(totpCredentials)
        .set({ createdAt: sql`now() - interval '16 minutes'` })
        .where(eq(totpCredentials.userId, user.id));
      expect(await confirmEnrollment(t.db, user.id, codeAt(secret), CONTEXT)).toEqual({ ok: false, error: "expired" });
    });

    it("refuses a second confirmation once enabled (recovery codes are not re-issued)", async () => {
      const user = await newUser(t.db);
      const secret = await start(user);
      const first = await confirmEnrollment(t.db, user.id, codeAt(secret), CONTEXT);
      expect(first.ok).toBe(true);
      expect(await confirmEnrollment(t.db, user.id, codeAt(secret, -1), CONTEXT)).toEqual({ ok: false, error: "already_enabled" }); // says what happened, whenever the second one arrives
    });

    it("gives a set of recovery codes that sign in", async () => {
      const user = await newUser(t.db);
      const result = await confirmEnrollment(t.db, user.id, codeAt(await start(user)), CONTEXT);
      const codes = (result as { recoveryCodes: string[] }).recoveryCodes;
      const signIn = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "recovery", code: codes[9] }, CONTEXT);
      expect(signIn.ok).toBe(true);
    });
  });
});
