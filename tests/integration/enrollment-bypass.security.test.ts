import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { changePassword } from "@/lib/account/password";
import { signOutEverywhere } from "@/lib/account/sessions";
import { setUserRole } from "@/lib/admin/set-user-role";
import { updateUserProperties } from "@/lib/admin/user-properties";
import { completeSignIn } from "@/lib/auth/second-step";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { regenerateRecoveryCodes } from "@/lib/two-factor/manage";
import { confirmSignInEnrollment, startSignInEnrollment } from "@/lib/two-factor/sign-in-enrollment";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, confirmedSession, CONTEXT, enrolledUser, eventNamesAbout, newUser, openChallenge, rewindLastUsedStep, type TestUser } from "./support/fixtures";

/**
 * The review's bypass: forced enrollment completed sign-in for whoever held an
 * "enroll" challenge once the account had any enrollment newer than that
 * challenge. An attacker with only the password opened one and waited for the
 * owner to enrol their own phone.
 */
describe.each(testDrivers())("forced enrollment bypass on %s", (driver) => {
  const t = useTestDatabase(driver);

  async function requiredUser(): Promise<TestUser> {
    const user = await newUser(t.db);
    await t.db.update(users).set({ twoFactorRequired: true }).where(eq(users.id, user.id));
    return user;
  }

  async function ownerEnrolsInMySettings(user: TestUser): Promise<string> {
    const started = await startEnrollment(t.db, user);
    if (!started.ok) throw new Error(started.error);
    const confirmed = await confirmEnrollment(t.db, user.id, codeAt(started.secret), CONTEXT);
    if (!confirmed.ok) throw new Error(confirmed.error);
    return started.secret;
  }

  it("a password holder's enroll challenge does not sign in when the owner enrols their own phone", async () => {
    const owner = await requiredUser();
    const attackersChallenge = await openChallenge(t.db, owner);
    await ownerEnrolsInMySettings(owner);
    const result = await completeSignIn(t.db, { challenge: attackersChallenge, method: "enrolled", code: "" }, CONTEXT);
    expect(result).toEqual({ ok: false, error: "challenge_expired" });
    expect(await eventNamesAbout(t.db, owner.id)).not.toContain("sign_in.succeeded");
  });

  it("an enroll challenge whose own enrollment was never confirmed cannot finish as 'enrolled', and the refusal is audited", async () => {
    const owner = await requiredUser();
    const challenge = await openChallenge(t.db, owner);
    const result = await completeSignIn(t.db, { challenge, method: "enrolled", code: "" }, CONTEXT);
    expect(result).toEqual({ ok: false, error: "challenge_expired" });
    expect(await eventNamesAbout(t.db, owner.id)).toContain("sign_in.finish_refused");
  });

  it("a password holder's enroll challenge does not sign in when the owner enrols on their own sign-in", async () => {
    const owner = await requiredUser();
    const attackersChallenge = await openChallenge(t.db, owner);
    const ownersChallenge = await openChallenge(t.db, owner);
    const started = await startSignInEnrollment(t.db, ownersChallenge);
    if (!started.ok) throw new Error(started.error);
    const confirmed = await confirmSignInEnrollment(t.db, ownersChallenge, codeAt(started.secret), CONTEXT);
    if (!confirmed.ok) throw new Error(confirmed.error);
    const stolen = await completeSignIn(t.db, { challenge: attackersChallenge, method: "enrolled", code: "" }, CONTEXT);
    expect(stolen).toEqual({ ok: false, error: "challenge_expired" });
    // The owner's own sign-in finishes, once, with the challenge its confirmation issued.
    const own = await completeSignIn(t.db, { challenge: confirmed.challenge, method: "enrolled", code: "" }, CONTEXT);
    expect(own.ok).toBe(true);
    expect(await completeSignIn(t.db, { challenge: confirmed.challenge, method: "enrolled", code: "" }, CONTEXT)).toMatchObject({ ok: false });
    expect(await completeSignIn(t.db, { challenge: ownersChallenge, method: "enrolled", code: "" }, CONTEXT)).toMatchObject({ ok: false });
  });

  it("an enrollment started on one challenge cannot be confirmed from another challenge of the same user, nor from My Settings", async () => {
    const owner = await requiredUser();
    const ownersChallenge = await openChallenge(t.db, owner);
    const attackersChallenge = await openChallenge(t.db, owner);
    const started = await startSignInEnrollment(t.db, ownersChallenge);
    if (!started.ok) throw new Error(started.error);
    const code = codeAt(started.secret);
    expect(await confirmSignInEnrollment(t.db, attackersChallenge, code, CONTEXT)).toEqual({ ok: false, error: "expired" });
    expect(await confirmEnrollment(t.db, owner.id, code, CONTEXT)).toEqual({ ok: false, error: "expired" });
    expect((await confirmSignInEnrollment(t.db, ownersChallenge, code, CONTEXT)).ok).toBe(true);
  });

  it("a sign-in challenge (purpose sign_in) cannot start or confirm a forced enrollment", async () => {
    const user = await newUser(t.db);
    const challenge = await openChallenge(t.db, user);
    expect(await startSignInEnrollment(t.db, challenge)).toEqual({ ok: false, error: "challenge_expired" });
    expect(await confirmSignInEnrollment(t.db, challenge, "123456", CONTEXT)).toEqual({ ok: false, error: "challenge_expired" });
  });

  it("an enroll challenge cannot finish with any other method either (none, trusted, a code)", async () => {
    const owner = await requiredUser();
    for (const method of ["none", "trusted", "totp", "recovery"] as const) {
      const challenge = await openChallenge(t.db, owner);
      const result = await completeSignIn(t.db, { challenge, method, code: "123456" }, CONTEXT);
      expect(result, method).toMatchObject({ ok: false });
    }
    expect(await eventNamesAbout(t.db, owner.id)).not.toContain("sign_in.succeeded");
  });
});

/** A challenge is "this password passed, for the account as it was": any change to the account ends it. */
describe.each(testDrivers())("pending sign-ins end with the account's change on %s", (driver) => {
  const t = useTestDatabase(driver);

  const changes: [string, (user: TestUser) => Promise<unknown>][] = [
    ["the password is changed", (u) => changePassword(t.db, u.id, u.password, "a different long passphrase 42", CONTEXT)],
    ["the user signs out everywhere", (u) => signOutEverywhere(t.db, u.id, CONTEXT)],
    ["the user is made an administrator", (u) => setUserRole(t.db, u.id, "admin", null, CONTEXT)],
    ["an administrator requires 2FA of the user", async (u) => {
      const admin = await confirmedSession(t.db, await newUser(t.db, { admin: true }));
      expect(await updateUserProperties(t.db, admin, u.id, { name: u.name, email: u.email, admin: false, twoFactorEnabled: true }, CONTEXT)).toEqual({ ok: true });
    }],
    ["an administrator changes the user's email", async (u) => {
      const admin = await confirmedSession(t.db, await newUser(t.db, { admin: true }));
      expect(await updateUserProperties(t.db, admin, u.id, { name: u.name, email: `moved-${u.email}`, admin: false, twoFactorEnabled: false }, CONTEXT)).toEqual({ ok: true });
    }],
  ];

  for (const [what, change] of changes) {
    it(`a challenge opened before ${what} no longer signs in`, async () => {
      const user = await newUser(t.db);
      const challenge = await openChallenge(t.db, user);
      await change(user);
      const result = await completeSignIn(t.db, { challenge, method: "none", code: "" }, CONTEXT);
      expect(result).toMatchObject({ ok: false });
    });
  }

  it("a challenge opened before new recovery codes were generated no longer takes a code", async () => {
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    const regenerated = await regenerateRecoveryCodes(t.db, user.id, codeAt(user.secret), CONTEXT);
    expect(regenerated.ok).toBe(true);
    await rewindLastUsedStep(t.db, user.id);
    const result = await completeSignIn(t.db, { challenge, method: "totp", code: codeAt(user.secret) }, CONTEXT);
    expect(result).toEqual({ ok: false, error: "challenge_expired" });
  });

  it("a challenge opened while 2FA was off does not outlive the owner enrolling", async () => {
    const user = await newUser(t.db);
    const challenge = await openChallenge(t.db, user);
    await ownerEnrols(user);
    const result = await completeSignIn(t.db, { challenge, method: "enrolled", code: "" }, CONTEXT);
    expect(result).toEqual({ ok: false, error: "challenge_expired" });
  });

  async function ownerEnrols(user: TestUser): Promise<void> {
    const started = await startEnrollment(t.db, user);
    if (!started.ok) throw new Error(started.error);
    expect((await confirmEnrollment(t.db, user.id, codeAt(started.secret), CONTEXT)).ok).toBe(true);
  }
});
