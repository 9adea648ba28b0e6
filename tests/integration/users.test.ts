import { describe, expect, it } from "vitest";
import { verifyPassword } from "@/lib/auth/password";
import { countEnrolledUsers, createUser, findUserByEmail, listUsers } from "@/lib/users";
import { testDrivers, useTestDatabase } from "./support/databases";
import { CONTEXT, enrolledUser, eventsAbout, newUser, PASSWORD } from "./support/fixtures";

describe.each(testDrivers())("users on %s", (driver) => {
  const t = useTestDatabase(driver);

  it("stores the password as an argon2id hash (OWASP parameters) that verifies", async () => {
    const user = await newUser(t.db);
    const row = (await findUserByEmail(t.db, user.email))!;
    expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row.passwordHash).not.toContain(PASSWORD);
    expect(await verifyPassword(row.passwordHash, PASSWORD)).toBe(true);
    expect(await verifyPassword(row.passwordHash, `${PASSWORD} `)).toBe(false);
    expect(await verifyPassword(null, PASSWORD)).toBe(false);
  });

  it("audits the creation with the admin who made it", async () => {
    const admin = await newUser(t.db, { admin: true });
    const created = await createUser(t.db, { name: "Eve", email: "eve@example.test", password: PASSWORD, admin: false }, admin.id, CONTEXT);
    if (!created.ok) throw new Error(created.error);
    expect(await eventsAbout(t.db, created.id)).toEqual([
      { event: "user.created", actorUserId: admin.id, ip: CONTEXT.ip, details: { role: "user" } },
    ]);
  });

  it("refuses a second account with the same email", async () => {
    const user = await newUser(t.db);
    expect(await createUser(t.db, { name: "Again", email: user.email, password: PASSWORD, admin: true }, null, CONTEXT)).toEqual({
      ok: false,
      error: "email_taken",
    });
    expect((await findUserByEmail(t.db, user.email))!.role).toBe("user");
  });

  it("creates one account when the same email is submitted several times at once", async () => {
    const email = `race-${Date.now()}@example.test`;
    const results = await Promise.all(
      [1, 2, 3, 4].map((i) => createUser(t.db, { name: `R${i}`, email, password: PASSWORD, admin: false }, null, CONTEXT)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, error: "email_taken" }, { ok: false, error: "email_taken" }, { ok: false, error: "email_taken" }]);
  });

  it("finds a user by email whatever the case and spacing typed", async () => {
    const user = await newUser(t.db);
    expect((await findUserByEmail(t.db, `  ${user.email.toUpperCase()} `))?.id).toBe(user.id);
  });

  it("lists who has 2FA enabled without exposing anything secret", async () => {
    const plain = await newUser(t.db);
    const enrolled = await enrolledUser(t.db);
    const rows = await listUsers(t.db, 1000);
    expect(rows.find((r) => r.id === plain.id)?.twoFactorEnabled).toBe(false);
    expect(rows.find((r) => r.id === enrolled.id)?.twoFactorEnabled).toBe(true);
    expect(Object.keys(rows[0]).sort()).toEqual(["createdAt", "email", "id", "name", "role", "twoFactorEnabled"]);
    expect(await countEnrolledUsers(t.db)).toBeGreaterThanOrEqual(1);
  });
});
