import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { recoveryCodes, totpCredentials, users } from "@/db/schema";
import { confirmAdmin, isRecentlyConfirmed, stepUpMethod } from "@/lib/admin/step-up";
import { getUserProperties, isSensitiveChange, updateUserProperties } from "@/lib/admin/user-properties";
import { completeSignIn } from "@/lib/auth/second-step";
import { passwordStep } from "@/lib/auth/sign-in";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { confirmSignInEnrollment, startSignInEnrollment } from "@/lib/two-factor/sign-in-enrollment";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, confirmedSession, CONTEXT, enrolledUser, eventNamesAbout, newSession, newUser, openChallenge, PASSWORD, userRow } from "./support/fixtures";

describe.each(testDrivers())("User properties on %s", (driver) => {
  const t = useTestDatabase(driver);

  it("unticking 2FA removes the secret and recovery codes and ends the user's sessions, audited", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await enrolledUser(t.db);
    const before = await userRow(t.db, user.id);
    const result = await updateUserProperties(t.db, await confirmedSession(t.db, admin), user.id, { name: user.name, email: user.email, admin: false, twoFactorEnabled: false }, CONTEXT);
    expect(result).toEqual({ ok: true });
    expect(await t.db.select().from(totpCredentials).where(eq(totpCredentials.userId, user.id))).toHaveLength(0);
    expect(await t.db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, user.id))).toHaveLength(0);
    expect((await userRow(t.db, user.id)).sessionVersion).toBe(before.sessionVersion + 1);
    expect(await eventNamesAbout(t.db, user.id)).toContain("two_factor.removed_by_admin");
    const step = await passwordStep(t.db, { email: user.email, password: PASSWORD }, CONTEXT);
    expect(step).toMatchObject({ ok: true, secondFactorDue: false, enrollmentDue: false });
  });

  it("ticking 2FA for a user without it makes enrollment the only way in at the next sign-in", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await newUser(t.db);
    await updateUserProperties(t.db, await confirmedSession(t.db, admin), user.id, { name: user.name, email: user.email, admin: false, twoFactorEnabled: true }, CONTEXT);
    expect(await getUserProperties(t.db, user.id)).toMatchObject({ twoFactorEnabled: false, twoFactorRequired: true });

    const step = await passwordStep(t.db, { email: user.email, password: PASSWORD }, CONTEXT);
    if (!step.ok) throw new Error("password step failed");
    expect(step).toMatchObject({ secondFactorDue: false, enrollmentDue: true });
    // The password alone, or a claim of enrollment before it happened, gets no session (and spends the challenge).
    expect(await completeSignIn(t.db, { challenge: step.challenge, method: "none", code: "" }, CONTEXT)).toEqual({ ok: false, error: "challenge_expired" });
    const again = await openChallenge(t.db, user);
    expect(await completeSignIn(t.db, { challenge: again, method: "enrolled", code: "" }, CONTEXT)).toEqual({ ok: false, error: "challenge_expired" });

    const challenge = await openChallenge(t.db, user);
    const started = await startSignInEnrollment(t.db, challenge);
    if (!started.ok) throw new Error("enrollment did not start");
    const confirmed = await confirmSignInEnrollment(t.db, challenge, codeAt(started.secret), CONTEXT);
    if (!confirmed.ok) throw new Error(confirmed.error);
    expect((await userRow(t.db, user.id)).twoFactorRequired).toBe(false);
    const signedIn = await completeSignIn(t.db, { challenge: confirmed.challenge, method: "enrolled", code: "" }, CONTEXT);
    expect(signedIn.ok).toBe(true);
    // Single use, like every challenge.
    expect(await completeSignIn(t.db, { challenge: confirmed.challenge, method: "enrolled", code: "" }, CONTEXT)).toEqual({ ok: false, error: "challenge_expired" });
  });

  it("an enrollment from before this password step does not complete a forced sign-in", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await newUser(t.db);
    await updateUserProperties(t.db, await confirmedSession(t.db, admin), user.id, { name: user.name, email: user.email, admin: false, twoFactorEnabled: true }, CONTEXT);
    const step = await passwordStep(t.db, { email: user.email, password: PASSWORD }, CONTEXT);
    if (!step.ok) throw new Error("password step failed");
    const started = await startEnrollment(t.db, user);
    if (!started.ok) throw new Error("enrollment did not start");
    await confirmEnrollment(t.db, user.id, codeAt(started.secret), CONTEXT);
    await t.db.update(totpCredentials).set({ enabledAt: sql`now() - interval '1 hour'` }).where(eq(totpCredentials.userId, user.id));
    expect(await completeSignIn(t.db, { challenge: step.challenge, method: "enrolled", code: "" }, CONTEXT)).toEqual({ ok: false, error: "challenge_expired" });
  });

  it("refuses to demote the last administrator and changes nothing", async () => {
    await t.db.update(users).set({ role: "user" });
    const admin = await newUser(t.db, { admin: true });
    const result = await updateUserProperties(t.db, await confirmedSession(t.db, admin), admin.id, { name: "Renamed", email: admin.email, admin: false, twoFactorEnabled: false }, CONTEXT);
    expect(result).toEqual({ ok: false, error: "last_admin" });
    expect(await userRow(t.db, admin.id)).toMatchObject({ role: "admin", name: admin.name });
  });

  it("refuses an email that another user has", async () => {
    const admin = await newUser(t.db, { admin: true });
    const [a, b] = [await newUser(t.db), await newUser(t.db)];
    const result = await updateUserProperties(t.db, await confirmedSession(t.db, admin), a.id, { name: a.name, email: b.email, admin: false, twoFactorEnabled: false }, CONTEXT);
    expect(result).toEqual({ ok: false, error: "email_taken" });
  });

  it("role, 2FA and email changes are sensitive; a new name is not", async () => {
    const user = await newUser(t.db);
    const current = (await getUserProperties(t.db, user.id))!;
    const same = { name: current.name, email: current.email, admin: current.admin, twoFactorEnabled: false };
    expect(isSensitiveChange(current, { ...same, name: "Other" })).toBe(false);
    expect(isSensitiveChange(current, { ...same, admin: true })).toBe(true);
    expect(isSensitiveChange(current, { ...same, twoFactorEnabled: true })).toBe(true);
    expect(isSensitiveChange(current, { ...same, email: `moved-${current.email}` })).toBe(true);
  });

  it("an admin without 2FA confirms with the password, one with 2FA with a single-use code", async () => {
    const plain = await newUser(t.db, { admin: true });
    const session = newSession(plain);
    expect(await stepUpMethod(t.db, plain.id)).toBe("password");
    expect(await confirmAdmin(t.db, session, "wrong password", CONTEXT)).toBe("invalid");
    expect(await isRecentlyConfirmed(t.db, session)).toBe(false);
    expect(await confirmAdmin(t.db, session, PASSWORD, CONTEXT)).toBe("ok");
    expect(await isRecentlyConfirmed(t.db, session)).toBe(true);

    const enrolled = await enrolledUser(t.db);
    await t.db.update(users).set({ role: "admin" }).where(eq(users.id, enrolled.id));
    await t.db.update(totpCredentials).set({ lastUsedStep: null }).where(eq(totpCredentials.userId, enrolled.id));
    const enrolledSession = newSession(enrolled);
    expect(await stepUpMethod(t.db, enrolled.id)).toBe("code");
    expect(await confirmAdmin(t.db, enrolledSession, PASSWORD, CONTEXT)).toBe("invalid");
    const code = codeAt(enrolled.secret);
    expect(await confirmAdmin(t.db, enrolledSession, code, CONTEXT)).toBe("ok");
    expect(await confirmAdmin(t.db, newSession(enrolled), code, CONTEXT)).toBe("invalid"); // replay, from another session too
  });
});
