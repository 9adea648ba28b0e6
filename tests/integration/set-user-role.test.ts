import { randomUUID } from "node:crypto";
import { desc, eq, TransactionRollbackError } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditEvents } from "@/db/schema";
import { setUserRole, type SetUserRoleResult } from "@/lib/admin/set-user-role";
import { getSettings, setTwoFactorEnabled } from "@/lib/settings";
import { testDrivers, useTestDatabase } from "./support/databases";
import { CONTEXT, eventsAbout, newUser, userRow } from "./support/fixtures";

/** What `npm run cli -- set-admin` and `settings --two-factor` do, and the admin screens may reuse. */
describe.each(testDrivers())("roles and instance settings on %s", (driver) => {
  const t = useTestDatabase(driver);

  it("makes a user an administrator and back, auditing each change with who did it", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await newUser(t.db);
    expect(await setUserRole(t.db, user.id, "admin", admin.id, CONTEXT, { via: "cli" })).toEqual({ ok: true, changed: true });
    expect((await userRow(t.db, user.id)).role).toBe("admin");
    expect(await setUserRole(t.db, user.id, "user", admin.id, CONTEXT)).toEqual({ ok: true, changed: true });
    expect((await userRow(t.db, user.id)).role).toBe("user");
    expect((await eventsAbout(t.db, user.id)).slice(1)).toEqual([
      { event: "user.changed", actorUserId: admin.id, ip: CONTEXT.ip, details: { admin: true, via: "cli" } },
      { event: "user.changed", actorUserId: admin.id, ip: CONTEXT.ip, details: { admin: false } },
    ]);
  });

  it("changes and records nothing when the role already is the one asked for", async () => {
    const user = await newUser(t.db);
    expect(await setUserRole(t.db, user.id, "user", null, CONTEXT)).toEqual({ ok: true, changed: false });
    expect((await eventsAbout(t.db, user.id)).map((e) => e.event)).toEqual(["user.created"]);
  });

  it("demotes inside the caller's transaction: a rollback there undoes the role and its audit entry", async () => {
    const first = await newUser(t.db, { admin: true });
    await newUser(t.db, { admin: true });
    let inside: SetUserRoleResult | undefined;
    const rolledBack = t.db.transaction(async (tx) => {
      inside = await setUserRole(tx, first.id, "user", null, CONTEXT);
      tx.rollback();
    });
    await expect(rolledBack).rejects.toBeInstanceOf(TransactionRollbackError);
    expect(inside).toEqual({ ok: true, changed: true });
    expect((await userRow(t.db, first.id)).role).toBe("admin");
    expect((await eventsAbout(t.db, first.id)).map((e) => e.event)).toEqual(["user.created"]);
  });

  it("reports an unknown user", async () => {
    expect(await setUserRole(t.db, randomUUID(), "admin", null, CONTEXT)).toEqual({ ok: false, error: "not_found" });
  });

  it("turns two-factor sign-in off and on for the instance, one audit event per real change", async () => {
    const lastSettingsEvent = async () =>
      (await t.db.select().from(auditEvents).where(eq(auditEvents.event, "settings.changed")).orderBy(desc(auditEvents.id)).limit(1))[0];
    expect(await setTwoFactorEnabled(t.db, false, null, CONTEXT, { via: "cli" })).toEqual({ changed: true });
    expect((await getSettings(t.db)).twoFactorEnabled).toBe(false);
    const event = await lastSettingsEvent();
    expect(event).toMatchObject({ actorUserId: null, userAgent: CONTEXT.userAgent, details: { twoFactorEnabled: false, via: "cli" } });
    expect(await setTwoFactorEnabled(t.db, false, null, CONTEXT)).toEqual({ changed: false });
    expect((await lastSettingsEvent()).id).toBe(event.id);
    const both = await Promise.all([setTwoFactorEnabled(t.db, true, null, CONTEXT), setTwoFactorEnabled(t.db, true, null, CONTEXT)]);
    expect(both.filter((r) => r.changed)).toHaveLength(1);
    expect((await getSettings(t.db)).twoFactorEnabled).toBe(true);
    expect(await lastSettingsEvent()).toMatchObject({ details: { twoFactorEnabled: true } });
  });
});
