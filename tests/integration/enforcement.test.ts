import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { instanceSettings } from "@/db/schema";
import { saveSecuritySettings, type SecuritySettings } from "@/lib/admin/security-settings";
import { passwordStep } from "@/lib/auth/sign-in";
import { getSettings } from "@/lib/settings";
import { twoFactorStatus } from "@/lib/two-factor/manage";
import { testDrivers, useTestDatabase } from "./support/databases";
import { confirmedSession, CONTEXT, enrolledUser, newUser, PASSWORD } from "./support/fixtures";

const base: SecuritySettings = { twoFactorEnabled: true, trustBrowserEnabled: false, trustBrowserDays: 30, requireTwoFactorFor: "nobody", requireGraceDays: 0 };

describe.each(testDrivers())("enforcement policy on %s", (driver) => {
  const t = useTestDatabase(driver);
  const step = async (user: { email: string }) => passwordStep(t.db, { email: user.email, password: PASSWORD }, CONTEXT);

  it("required for administrators with no grace: an unenrolled admin is sent to enrollment, not locked out; users are not asked", async () => {
    const admin = await newUser(t.db, { admin: true });
    const session = await confirmedSession(t.db, admin);
    const user = await newUser(t.db);
    await saveSecuritySettings(t.db, session, { ...base, requireTwoFactorFor: "admins" }, CONTEXT);
    expect(await step(admin)).toMatchObject({ ok: true, enrollmentDue: true, secondFactorDue: false });
    expect(await step(user)).toMatchObject({ ok: true, enrollmentDue: false, secondFactorDue: false });
    const enrolled = await enrolledUser(t.db);
    expect(await step(enrolled)).toMatchObject({ ok: true, secondFactorDue: true, enrollmentDue: false, factors: { totp: true, keys: false } });
  });

  it("during the grace period users see the days left and sign in as before", async () => {
    const admin = await newUser(t.db, { admin: true });
    const session = await confirmedSession(t.db, admin);
    const user = await newUser(t.db);
    await saveSecuritySettings(t.db, session, { ...base, requireTwoFactorFor: "everyone", requireGraceDays: 10 }, CONTEXT);
    expect(await step(user)).toMatchObject({ ok: true, enrollmentDue: false });
    expect((await twoFactorStatus(t.db, user.id, "user")).requiredInDays).toBe(10);
  });

  it("the grace period counts from when the policy took effect, not from each save", async () => {
    const admin = await newUser(t.db, { admin: true });
    const session = await confirmedSession(t.db, admin);
    await saveSecuritySettings(t.db, session, { ...base, requireTwoFactorFor: "everyone", requireGraceDays: 10 }, CONTEXT);
    const first = (await getSettings(t.db)).requireSince;
    const elevenDaysEarlier = new Date(first!.getTime() - 11 * 86_400_000);
    await t.db.update(instanceSettings).set({ requireSince: elevenDaysEarlier, requireEveryoneSince: elevenDaysEarlier }).where(eq(instanceSettings.id, 1));
    await saveSecuritySettings(t.db, session, { ...base, requireTwoFactorFor: "everyone", requireGraceDays: 10, trustBrowserDays: 20 }, CONTEXT);
    const user = await newUser(t.db);
    expect(await step(user)).toMatchObject({ ok: true, enrollmentDue: true });
    await saveSecuritySettings(t.db, session, { ...base }, CONTEXT);
    expect(await getSettings(t.db)).toMatchObject({ requireSince: null, requireEveryoneSince: null });
    expect(await step(user)).toMatchObject({ ok: true, enrollmentDue: false });
  });

  it("widening the policy from administrators to everyone gives the others their grace, and administrators already due stay due", async () => {
    const admin = await newUser(t.db, { admin: true });
    const session = await confirmedSession(t.db, admin);
    const user = await newUser(t.db);
    await saveSecuritySettings(t.db, session, { ...base, requireTwoFactorFor: "admins", requireGraceDays: 10 }, CONTEXT);
    // The administrators' 10 days ran out.
    const adminsSince = new Date((await getSettings(t.db)).requireSince!.getTime() - 11 * 86_400_000);
    await t.db.update(instanceSettings).set({ requireSince: adminsSince }).where(eq(instanceSettings.id, 1));
    expect(await step(admin)).toMatchObject({ ok: true, enrollmentDue: true });

    await saveSecuritySettings(t.db, session, { ...base, requireTwoFactorFor: "everyone", requireGraceDays: 10 }, CONTEXT);
    expect((await getSettings(t.db)).requireSince).toEqual(adminsSince);
    expect(await step(admin)).toMatchObject({ ok: true, enrollmentDue: true });
    expect(await step(user)).toMatchObject({ ok: true, enrollmentDue: false });
    expect((await twoFactorStatus(t.db, user.id, "user")).requiredInDays).toBe(10);
    expect((await twoFactorStatus(t.db, admin.id, "admin")).requiredInDays).toBe(0);

    // Narrowed back to administrators: still due; the others are free again, and widening once more starts their grace anew.
    await saveSecuritySettings(t.db, session, { ...base, requireTwoFactorFor: "admins", requireGraceDays: 10 }, CONTEXT);
    expect(await step(admin)).toMatchObject({ ok: true, enrollmentDue: true });
    expect((await twoFactorStatus(t.db, user.id, "user")).requiredInDays).toBeNull();
    expect((await getSettings(t.db)).requireEveryoneSince).toBeNull();
  });
});
