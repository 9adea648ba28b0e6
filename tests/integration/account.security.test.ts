import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { instanceSettings } from "@/db/schema";
import { getSettings } from "@/lib/settings";
import { changePassword } from "@/lib/account/password";
import { signOutEverywhere } from "@/lib/account/sessions";
import { completeSignIn } from "@/lib/auth/second-step";
import { passwordStep } from "@/lib/auth/sign-in";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, CONTEXT, enrolledUser, eventNamesAbout, newUser, openChallenge, PASSWORD, rewindLastUsedStep, userRow } from "./support/fixtures";

describe.each(testDrivers())("password change and sign out everywhere on %s", (driver) => {
  const t = useTestDatabase(driver);

  it("a stolen session cannot change the password without the current one", async () => {
    const user = await newUser(t.db);
    const before = await userRow(t.db, user.id);
    expect(await changePassword(t.db, user.id, "not the password", "attacker-password", CONTEXT)).toBe("wrong_password");
    const after = await userRow(t.db, user.id);
    expect(after.passwordHash).toBe(before.passwordHash);
    expect(after.sessionVersion).toBe(before.sessionVersion);
  });

  it("guessing the current password through a stolen session is limited to 10 consecutive failures", async () => {
    const user = await newUser(t.db);
    for (let i = 0; i < 10; i++) expect(await changePassword(t.db, user.id, `guess-${i}`, "attacker-password", CONTEXT)).toBe("wrong_password");
    // Even the right password is refused now: the limit does not tell the guesser when it has hit.
    expect(await changePassword(t.db, user.id, PASSWORD, "attacker-password", CONTEXT)).toBe("rate_limited");
  });

  it("a password change ends every session and forgets every trusted browser, with an audit entry", async () => {
    await getSettings(t.db); // the settings row exists from the first read on
    await t.db.update(instanceSettings).set({ trustBrowserEnabled: true }).where(eq(instanceSettings.id, 1));
    const user = await enrolledUser(t.db);
    const signedIn = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "totp", code: codeAt(user.secret), trust: true }, CONTEXT);
    if (!signedIn.ok || !signedIn.trustToken) throw new Error("no trust token");
    await rewindLastUsedStep(t.db, user.id);
    const before = await userRow(t.db, user.id);
    expect(await changePassword(t.db, user.id, PASSWORD, "a new long password", CONTEXT)).toMatchObject({ ok: true });
    const after = await userRow(t.db, user.id);
    expect(after.sessionVersion).toBe(before.sessionVersion + 1);
    expect(await eventNamesAbout(t.db, user.id)).toContain("password.changed");
    const trusted = await completeSignIn(t.db, { challenge: await openChallenge(t.db, { ...user, password: "a new long password" }), method: "trusted", code: "", trustToken: signedIn.trustToken }, CONTEXT);
    expect(trusted).toEqual({ ok: false, error: "not_trusted" });
    // The old password no longer opens the password step; the new one does.
    expect((await passwordStep(t.db, { email: user.email, password: PASSWORD }, CONTEXT)).ok).toBe(false);
    expect((await passwordStep(t.db, { email: user.email, password: "a new long password" }, CONTEXT)).ok).toBe(true);
  });

  it("sign out everywhere ends every session of the user, and only that user's", async () => {
    const user = await newUser(t.db);
    const other = await newUser(t.db);
    const [mine, theirs] = [await userRow(t.db, user.id), await userRow(t.db, other.id)];
    await signOutEverywhere(t.db, user.id, CONTEXT);
    expect((await userRow(t.db, user.id)).sessionVersion).toBe(mine.sessionVersion + 1);
    expect((await userRow(t.db, other.id)).sessionVersion).toBe(theirs.sessionVersion);
    expect(await eventNamesAbout(t.db, user.id)).toContain("sessions.ended");
  });
});
