import { eq, max, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditEvents, instanceSettings, stepUpConfirmations, users } from "@/db/schema";
import { addUser } from "@/lib/admin/add-user";
import { saveSecuritySettings, type SecuritySettings } from "@/lib/admin/security-settings";
import { confirmAdmin, isRecentlyConfirmed } from "@/lib/admin/step-up";
import { getUserProperties, updateUserProperties } from "@/lib/admin/user-properties";
import { completeSignIn } from "@/lib/auth/second-step";
import { getSettings } from "@/lib/settings";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, confirmedSession, CONTEXT, enrolledUser, newSession, newUser, openChallenge, PASSWORD, rewindLastUsedStep } from "./support/fixtures";

/**
 * A stolen administrator session (a copied cookie, an unlocked machine) must
 * not weaken sign-in for everyone: those changes wait for a confirmation that
 * only the session that gave it can use, for 5 minutes.
 */
const STRICT: SecuritySettings = { twoFactorEnabled: true, trustBrowserEnabled: false, trustBrowserDays: 7, requireTwoFactorFor: "admins", requireGraceDays: 3 };
const REFUSED = { ok: false, error: "confirmation_required", method: "password" };

const WEAKENING: [string, Partial<SecuritySettings>][] = [
  ["two-factor login off for the instance", { twoFactorEnabled: false }],
  ["trusted browsers allowed", { trustBrowserEnabled: true }],
  ["trusted browsers for longer", { trustBrowserDays: 90 }],
  ["enforcement lowered to nobody", { requireTwoFactorFor: "nobody" }],
  ["a longer grace while a policy is in force", { requireGraceDays: 90 }],
];
const STRENGTHENING: [string, Partial<SecuritySettings>][] = [
  ["trusted browsers for fewer days", { trustBrowserDays: 1 }],
  ["enforcement raised to everyone", { requireTwoFactorFor: "everyone" }],
  ["a shorter grace", { requireGraceDays: 0 }],
];

describe.each(testDrivers())("confirmations for changes that weaken sign-in on %s", (driver) => {
  const t = useTestDatabase(driver);
  const lastAuditId = async () => (await t.db.select({ id: max(auditEvents.id) }).from(auditEvents))[0].id ?? 0;
  const settingsRow = async () => t.db.select().from(instanceSettings).where(eq(instanceSettings.id, 1));
  /** The instance at STRICT, set by a confirmed session; returns an admin and a session of theirs that never confirmed. */
  const strictInstance = async () => {
    const admin = await newUser(t.db, { admin: true });
    expect(await saveSecuritySettings(t.db, await confirmedSession(t.db, admin), STRICT, CONTEXT)).toEqual({ ok: true });
    return { admin, stolen: newSession(admin) };
  };

  it.each(WEAKENING)("a stolen admin session's save of %s is refused and changes nothing, not even the audit log", async (_what, change) => {
    const { stolen } = await strictInstance();
    const [before, audited] = [await settingsRow(), await lastAuditId()];
    expect(await saveSecuritySettings(t.db, stolen, { ...STRICT, ...change }, CONTEXT)).toEqual(REFUSED);
    expect(await settingsRow()).toEqual(before);
    expect(await lastAuditId()).toBe(audited);
  });

  it.each(STRENGTHENING)("%s needs no confirmation", async (_what, change) => {
    const { stolen } = await strictInstance();
    expect(await saveSecuritySettings(t.db, stolen, { ...STRICT, ...change }, CONTEXT)).toEqual({ ok: true });
    expect(await getSettings(t.db)).toMatchObject({ ...STRICT, ...change });
  });

  it("turning two-factor login on again needs no confirmation", async () => {
    const { admin, stolen } = await strictInstance();
    await saveSecuritySettings(t.db, await confirmedSession(t.db, admin), { ...STRICT, twoFactorEnabled: false }, CONTEXT);
    expect(await saveSecuritySettings(t.db, stolen, STRICT, CONTEXT)).toEqual({ ok: true });
    expect((await getSettings(t.db)).twoFactorEnabled).toBe(true);
  });

  it("a stolen admin session cannot add an administrator: nobody is created, nothing audited; a plain user it may add", async () => {
    const stolen = newSession(await newUser(t.db, { admin: true }));
    const audited = await lastAuditId();
    const mallory = { name: "Mallory", email: `mallory-${stolen.sessionId}@example.test`, password: PASSWORD, admin: true };
    expect(await addUser(t.db, stolen, mallory, CONTEXT)).toEqual(REFUSED);
    expect(await t.db.select().from(users).where(eq(users.email, mallory.email))).toEqual([]);
    expect(await lastAuditId()).toBe(audited);
    expect(await addUser(t.db, stolen, { ...mallory, admin: false }, CONTEXT)).toMatchObject({ ok: true });
  });

  it("a stolen admin session cannot move a user's email (where their notices go) or make them an administrator; a new name it may set", async () => {
    const stolen = newSession(await newUser(t.db, { admin: true }));
    const user = await newUser(t.db);
    const current = { name: user.name, email: user.email, admin: false, twoFactorEnabled: false };
    const audited = await lastAuditId();
    expect(await updateUserProperties(t.db, stolen, user.id, { ...current, email: "mallory@example.test" }, CONTEXT)).toEqual(REFUSED);
    expect(await updateUserProperties(t.db, stolen, user.id, { ...current, admin: true }, CONTEXT)).toEqual(REFUSED);
    expect(await getUserProperties(t.db, user.id)).toMatchObject({ email: user.email, admin: false });
    expect(await lastAuditId()).toBe(audited);
    expect(await updateUserProperties(t.db, stolen, user.id, { ...current, name: "Renamed" }, CONTEXT)).toEqual({ ok: true });
  });

  it("a second session of the same admin cannot ride on the first session's confirmation, even saving while it confirms", async () => {
    const { admin, stolen } = await strictInstance();
    const first = newSession(admin);
    const off = { ...STRICT, twoFactorEnabled: false };
    const [confirmed, ...stolenSaves] = await Promise.all([
      confirmAdmin(t.db, first, PASSWORD, CONTEXT),
      ...Array.from({ length: 10 }, () => saveSecuritySettings(t.db, stolen, off, CONTEXT)),
    ]);
    expect(confirmed).toBe("ok");
    expect(stolenSaves).toEqual(Array(10).fill(REFUSED));
    expect(await saveSecuritySettings(t.db, stolen, off, CONTEXT)).toEqual(REFUSED);
    expect((await getSettings(t.db)).twoFactorEnabled).toBe(true);
    expect(await saveSecuritySettings(t.db, first, off, CONTEXT)).toEqual({ ok: true });
    await saveSecuritySettings(t.db, first, STRICT, CONTEXT);
  });

  it("another admin's confirmation does not count for a session id it names", async () => {
    const { admin, stolen } = await strictInstance();
    const other = await newUser(t.db, { admin: true });
    expect(await confirmAdmin(t.db, { id: other.id, sessionId: stolen.sessionId }, PASSWORD, CONTEXT)).toBe("ok");
    expect(await isRecentlyConfirmed(t.db, stolen)).toBe(false);
    expect(await isRecentlyConfirmed(t.db, { id: admin.id, sessionId: stolen.sessionId })).toBe(false);
  });

  it("a confirmation older than 5 minutes does not count", async () => {
    const { admin } = await strictInstance();
    const session = await confirmedSession(t.db, admin);
    const ago = (seconds: number) =>
      t.db.update(stepUpConfirmations).set({ confirmedAt: sql`now() - make_interval(secs => ${seconds})` }).where(eq(stepUpConfirmations.sessionId, session.sessionId));
    await ago(290);
    expect(await isRecentlyConfirmed(t.db, session)).toBe(true);
    await ago(301);
    expect(await saveSecuritySettings(t.db, session, { ...STRICT, twoFactorEnabled: false }, CONTEXT)).toEqual(REFUSED);
    expect((await getSettings(t.db)).twoFactorEnabled).toBe(true);
  });

  it("a fresh sign-in with password and code is not a confirmation", async () => {
    await strictInstance();
    const admin = await enrolledUser(t.db);
    await t.db.update(users).set({ role: "admin" }).where(eq(users.id, admin.id));
    // Confirmed earlier, in another session; then signed in again just now, with a code.
    expect(await confirmAdmin(t.db, newSession(admin), codeAt(admin.secret), CONTEXT)).toBe("ok");
    await rewindLastUsedStep(t.db, admin.id);
    const signedIn = await completeSignIn(t.db, { challenge: await openChallenge(t.db, admin), method: "totp", code: codeAt(admin.secret) }, CONTEXT);
    expect(signedIn.ok).toBe(true);
    const fresh = newSession(admin); // the jwt callback gives every sign-in a new sid
    expect(await saveSecuritySettings(t.db, fresh, { ...STRICT, twoFactorEnabled: false }, CONTEXT)).toEqual({ ...REFUSED, method: "code" });
    expect((await getSettings(t.db)).twoFactorEnabled).toBe(true);
  });
});
