import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { instanceSettings, recoveryCodes } from "@/db/schema";
import { completeSignIn } from "@/lib/auth/second-step";
import { isSecondFactorDue, passwordStep } from "@/lib/auth/sign-in";
import { getSettings } from "@/lib/settings";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { twoFactorStatus } from "@/lib/two-factor/manage";
import { countEnrolledUsers } from "@/lib/users";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, CONTEXT, enrolledUser, eventNamesAbout, newUser, openChallenge, totpRow, wrongCode } from "./support/fixtures";

/** The instance-wide "Enable two factor user login" switch (Settings → Security). */
describe.each(testDrivers())("instance 2FA switch on %s", (driver) => {
  const t = useTestDatabase(driver);

  // The same update the admin action makes; the action itself needs a Next request.
  const setSwitch = (twoFactorEnabled: boolean) =>
    t.db.update(instanceSettings).set({ twoFactorEnabled }).where(eq(instanceSettings.id, 1));
  afterEach(() => setSwitch(true));

  it("is on by default on a new instance", async () => {
    expect((await getSettings(t.db)).twoFactorEnabled).toBe(true);
  });

  it("when off, asks no code of an enrolled user and lets the password step finish the sign-in", async () => {
    const user = await enrolledUser(t.db);
    await setSwitch(false);
    expect(await isSecondFactorDue(t.db, user.id)).toBe(false);
    const step = await passwordStep(t.db, { email: user.email, password: user.password }, CONTEXT);
    expect(step).toMatchObject({ ok: true, secondFactorDue: false });
    const result = await completeSignIn(t.db, { challenge: (step as { challenge: string }).challenge, method: "none", code: "" }, CONTEXT);
    expect(result).toMatchObject({ ok: true, user: { id: user.id } });
  });

  it("when off, keeps every user's secret and recovery codes untouched", async () => {
    const user = await enrolledUser(t.db);
    const credentialBefore = await totpRow(t.db, user.id);
    const codesBefore = await t.db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, user.id));
    const enrolledBefore = await countEnrolledUsers(t.db);
    await setSwitch(false);
    await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "none", code: "" }, CONTEXT);
    expect(await totpRow(t.db, user.id)).toEqual(credentialBefore);
    expect(await t.db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, user.id))).toEqual(codesBefore);
    expect(await countEnrolledUsers(t.db)).toBe(enrolledBefore);
    expect(await twoFactorStatus(t.db, user.id, "user")).toEqual({ instanceEnabled: false, enabled: true, totp: true, passkeySignIn: false, recoveryCodesLeft: 10, requiredInDays: null });
  });

  it("when off, refuses to start or confirm an enrollment", async () => {
    const user = await newUser(t.db);
    const started = await startEnrollment(t.db, user);
    if (!started.ok) throw new Error(started.error);
    await setSwitch(false);
    expect(await startEnrollment(t.db, user)).toEqual({ ok: false, error: "two_factor_off" });
    expect(await confirmEnrollment(t.db, user.id, codeAt(started.secret), CONTEXT)).toEqual({
      ok: false,
      error: "two_factor_off",
    });
  });

  it("when switched back on, asks for the code again with the same secret, and skipping it is refused", async () => {
    const user = await enrolledUser(t.db);
    await setSwitch(false);
    await setSwitch(true);
    expect(await isSecondFactorDue(t.db, user.id)).toBe(true);
    const skipped = await openChallenge(t.db, user);
    expect(await completeSignIn(t.db, { challenge: skipped, method: "none", code: "" }, CONTEXT)).toEqual({
      ok: false,
      error: "challenge_expired",
    });
    // The refused skip spent that challenge; a new password step asks for the code.
    expect(await completeSignIn(t.db, { challenge: skipped, method: "totp", code: codeAt(user.secret) }, CONTEXT)).toEqual({ ok: false, error: "challenge_expired" });
    const challenge = await openChallenge(t.db, user);
    expect(await completeSignIn(t.db, { challenge, method: "totp", code: wrongCode(user.secret) }, CONTEXT)).toEqual({
      ok: false,
      error: "code_invalid",
    });
    expect((await completeSignIn(t.db, { challenge, method: "totp", code: codeAt(user.secret) }, CONTEXT)).ok).toBe(true);
  });

  it("switched on between the two steps, still asks for the code (re-checked at step 2, not trusted from step 1)", async () => {
    const user = await enrolledUser(t.db);
    await setSwitch(false);
    const step = await passwordStep(t.db, { email: user.email, password: user.password }, CONTEXT);
    expect(step).toMatchObject({ ok: true, secondFactorDue: false });
    await setSwitch(true);
    const challenge = (step as { challenge: string }).challenge;
    expect(await completeSignIn(t.db, { challenge, method: "none", code: "" }, CONTEXT)).toEqual({
      ok: false,
      error: "challenge_expired",
    });
    // The refused skip spent the challenge (audited); the next password step asks for the code.
    expect(await eventNamesAbout(t.db, user.id)).toContain("sign_in.finish_refused");
    const next = await passwordStep(t.db, { email: user.email, password: user.password }, CONTEXT);
    expect(next).toMatchObject({ ok: true, secondFactorDue: true });
    const fresh = (next as { challenge: string }).challenge;
    expect((await completeSignIn(t.db, { challenge: fresh, method: "totp", code: codeAt(user.secret) }, CONTEXT)).ok).toBe(true);
  });

  it("does not affect users who never enrolled", async () => {
    const user = await newUser(t.db);
    expect(await isSecondFactorDue(t.db, user.id)).toBe(false);
    await setSwitch(false);
    expect(await isSecondFactorDue(t.db, user.id)).toBe(false);
  });
});
