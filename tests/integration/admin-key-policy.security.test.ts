import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { instanceSettings } from "@/db/schema";
import { adminKeyMissing } from "@/lib/admin/key-policy";
import { saveSecuritySettings, type SecuritySettings } from "@/lib/admin/security-settings";
import { passwordStep } from "@/lib/auth/sign-in";
import { removeSecurityKey } from "@/lib/security-keys/manage";
import { getSettings } from "@/lib/settings";
import { testDrivers, useTestDatabase } from "./support/databases";
import { confirmedSession, CONTEXT, newUser, openChallenge } from "./support/fixtures";
import { addKey, liveSession } from "./support/security-keys";
import { runAsTestRelyingParty } from "./support/software-key";

runAsTestRelyingParty();

const SETTINGS: SecuritySettings = { twoFactorEnabled: true, trustBrowserEnabled: false, trustBrowserDays: 30, requireTwoFactorFor: "nobody", requireGraceDays: 0 };

// Issue 12: Settings → Security → Require a security key for administrators.
describe.each(testDrivers())("require a security key for administrators on %s", (driver) => {
  const t = useTestDatabase(driver);
  // One database per file: each test starts from the policy off.
  beforeEach(async () => {
    await getSettings(t.db);
    await t.db.update(instanceSettings).set({ requireSecurityKeyForAdmins: false }).where(eq(instanceSettings.id, 1));
  });

  it("an administrator without a key cannot require keys (they would lose Administration at once); with one, they can", async () => {
    const admin = await newUser(t.db, { admin: true });
    const session = await confirmedSession(t.db, admin);
    expect(await saveSecuritySettings(t.db, session, { ...SETTINGS, requireSecurityKeyForAdmins: true }, CONTEXT)).toEqual({ ok: false, error: "own_key_missing" });
    expect((await getSettings(t.db)).requireSecurityKeyForAdmins).toBe(false);
    // addKey's session confirmed with the password a moment ago (before its key): it still counts, for that session.
    const { session: withKey } = await addKey(t.db, admin);
    expect(await saveSecuritySettings(t.db, withKey, { ...SETTINGS, requireSecurityKeyForAdmins: true }, CONTEXT)).toEqual({ ok: true });
    expect((await getSettings(t.db)).requireSecurityKeyForAdmins).toBe(true);
  });

  it("with the policy on, an administrator without a key has no administrator's powers but still signs in; a key gives them back; a user is never concerned", async () => {
    const owner = await newUser(t.db, { admin: true });
    const { session: ownerSession } = await addKey(t.db, owner);
    const other = await newUser(t.db, { admin: true });
    const plain = await newUser(t.db);
    expect(await adminKeyMissing(t.db, other.id)).toBe(false);
    expect(await saveSecuritySettings(t.db, ownerSession, { ...SETTINGS, requireSecurityKeyForAdmins: true }, CONTEXT)).toEqual({ ok: true });
    expect(await adminKeyMissing(t.db, other.id)).toBe(true);
    expect(await adminKeyMissing(t.db, owner.id)).toBe(false);
    expect(await adminKeyMissing(t.db, plain.id)).toBe(false);
    // Never locked out: the password step still opens the way (no second factor yet: straight in), and a key can be added.
    expect((await passwordStep(t.db, { email: other.email, password: other.password }, CONTEXT)).ok).toBe(true);
    await addKey(t.db, other);
    expect(await adminKeyMissing(t.db, other.id)).toBe(false);
  });

  it("an administrator who removes their last key under the policy loses Administration again (not their account)", async () => {
    const admin = await newUser(t.db, { admin: true });
    const { id, session } = await addKey(t.db, admin);
    expect(await saveSecuritySettings(t.db, session, { ...SETTINGS, requireSecurityKeyForAdmins: true }, CONTEXT)).toEqual({ ok: true });
    const removed = await removeSecurityKey(t.db, session, id, CONTEXT);
    expect(removed).toMatchObject({ ok: true });
    expect(await adminKeyMissing(t.db, admin.id)).toBe(true);
    expect(await openChallenge(t.db, admin)).toBeTruthy();
  });

  it("turning the policy off weakens sign-in for administrators: it asks for this session's confirmation", async () => {
    const admin = await newUser(t.db, { admin: true });
    const { session } = await addKey(t.db, admin);
    expect(await saveSecuritySettings(t.db, session, { ...SETTINGS, requireSecurityKeyForAdmins: true }, CONTEXT)).toEqual({ ok: true });
    const unconfirmed = await liveSession(t.db, admin);
    expect(await saveSecuritySettings(t.db, unconfirmed, { ...SETTINGS, requireSecurityKeyForAdmins: false }, CONTEXT)).toMatchObject({ ok: false, error: "confirmation_required" });
    expect((await getSettings(t.db)).requireSecurityKeyForAdmins).toBe(true);
    // Left out (a caller that predates the option), the policy stays as it is.
    expect(await saveSecuritySettings(t.db, unconfirmed, SETTINGS, CONTEXT)).toEqual({ ok: true });
    expect((await getSettings(t.db)).requireSecurityKeyForAdmins).toBe(true);
  });

});
