import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { setUserRole } from "@/lib/admin/set-user-role";
import { testDrivers, useTestDatabase } from "./support/databases";
import { CONTEXT, eventsAbout, newUser, userRow } from "./support/fixtures";

/** Nobody may leave the instance without an administrator, not even two admins racing. */
describe.each(testDrivers())("last administrator on %s", (driver) => {
  const t = useTestDatabase(driver);

  // Each test starts from no administrator at all, whatever earlier tests created.
  async function onlyAdmins(count: number) {
    await t.db.update(users).set({ role: "user" }).where(sql`true`);
    return Promise.all(Array.from({ length: count }, () => newUser(t.db, { admin: true })));
  }

  it("refuses to demote the only administrator, and records nothing", async () => {
    const [admin] = await onlyAdmins(1);
    expect(await setUserRole(t.db, admin.id, "user", admin.id, CONTEXT)).toEqual({ ok: false, error: "last_admin" });
    expect((await userRow(t.db, admin.id)).role).toBe("admin");
    expect((await eventsAbout(t.db, admin.id)).map((e) => e.event)).toEqual(["user.created"]);
  });

  it("lets one of two administrators go, then keeps the other", async () => {
    const [first, second] = await onlyAdmins(2);
    expect(await setUserRole(t.db, first.id, "user", second.id, CONTEXT)).toEqual({ ok: true, changed: true });
    expect(await setUserRole(t.db, second.id, "user", second.id, CONTEXT)).toEqual({ ok: false, error: "last_admin" });
  });

  it("keeps one administrator when two demote each other at the same moment", async () => {
    for (let round = 0; round < 5; round++) {
      const [first, second] = await onlyAdmins(2);
      const results = await Promise.all([
        setUserRole(t.db, first.id, "user", second.id, CONTEXT),
        setUserRole(t.db, second.id, "user", first.id, CONTEXT),
      ]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, error: "last_admin" }]);
      const roles = [(await userRow(t.db, first.id)).role, (await userRow(t.db, second.id)).role];
      expect(roles.sort()).toEqual(["admin", "user"]);
    }
  });
});
