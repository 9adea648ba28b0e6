import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { instanceSettings } from "@/db/schema";
import { saveSecuritySettings, type SecuritySettings } from "@/lib/admin/security-settings";
import { passwordStep } from "@/lib/auth/sign-in";
import { getSettings } from "@/lib/settings";
import { twoFactorStatus } from "@/lib/two-factor/manage";
import { testDrivers, useTestDatabase } from "./support/databases";
import { CONTEXT, enrolledUser, newUser, PASSWORD } from "./support/fixtures";

const base: SecuritySettings = { twoFactorEnabled: true, trustBrowserEnabled: false, trustBrowserDays: 30, requireTwoFactorFor: "nobody", requireGraceDays: 0 };

describe.each(testDrivers())("enforcement policy on %s", (driver) => {
  const t = useTestDatabase(driver);
  const step = async (user: { email: string }) => passwordStep(t.db, { email: user.email, password: PASSWORD }, CONTEXT);

  it("required for administrators with no grace: an unenrolled admin is sent to enrollment, not locked out; users are not asked", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await newUser(t.db);
    await saveSecuritySettings(t.db, admin.id, { ...base, requireTwoFactorFor: "admins" }, CONTEXT);
    expect(await step(admin)).toMatchObject({ ok: true, enrollmentDue: true, secondFactorDue: false });
    expect(await step(user)).toMatchObject({ ok: true, enrollmentDue: false, secondFactorDue: false });
    const enrolled = await enrolledUser(t.db);
    expect(await step(enrolled)).toMatchObject({ ok: true, secondFactorDue: true, enrollmentDue: false });
  });

  it("during the grace period users see the days left and sign in as before", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await newUser(t.db);
    await saveSecuritySettings(t.db, admin.id, { ...base, requireTwoFactorFor: "everyone", requireGraceDays: 10 }, CONTEXT);
    expect(await step(user)).toMatchObject({ ok: true, enrollmentDue: false });
    expect((await twoFactorStatus(t.db, user.id, "user")).requiredInDays).toBe(10);
  });

  it("the grace period counts from when the policy took effect, not from each save", async () => {
    const admin = await newUser(t.db, { admin: true });
    await saveSecuritySettings(t.db, admin.id, { ...base, requireTwoFactorFor: "everyone", requireGraceDays: 10 }, CONTEXT);
    const first = (await getSettings(t.db)).requireSince;
    await t.db.update(instanceSettings).set({ requireSince: new Date(first!.getTime() - 11 * 86_400_000) }).where(eq(instanceSettings.id, 1));
    await saveSecuritySettings(t.db, admin.id, { ...base, requireTwoFactorFor: "everyone", requireGraceDays: 10, trustBrowserDays: 20 }, CONTEXT);
    const user = await newUser(t.db);
    expect(await step(user)).toMatchObject({ ok: true, enrollmentDue: true });
    await saveSecuritySettings(t.db, admin.id, { ...base }, CONTEXT);
    expect((await getSettings(t.db)).requireSince).toBeNull();
    expect(await step(user)).toMatchObject({ ok: true, enrollmentDue: false });
  });
});
