import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Database } from "@/db";
import { totpCredentials, users } from "@/db/schema";
import { updateUserProperties } from "@/lib/admin/user-properties";
import { seedUsers } from "@/lib/admin/seed-users";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { disableTwoFactor } from "@/lib/two-factor/manage";
import { countEnrolledUsers, countUsers, createUser } from "@/lib/users";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, confirmedSession, CONTEXT, enrolledUser, newUser, PASSWORD, rawRows } from "./support/fixtures";

/**
 * The Users page's totals come from `user_counts`, kept by triggers (migration
 * 0006) rather than by the code that writes: each test changes users or their
 * 2FA through one of the app's write paths and compares the counters with
 * `count(*)` of the rows themselves.
 */
describe.each(testDrivers())("user counters on %s", (driver) => {
  const t = useTestDatabase(driver);

  async function counted(db: Database = t.db): Promise<{ users: number; enrolled: number }> {
    const [row] = await rawRows<{ users: number | string; enrolled: number | string }>(
      db,
      sql`select (select count(*) from users) as users, (select count(*) from totp_credentials where enabled_at is not null) as enrolled`,
    );
    return { users: Number(row.users), enrolled: Number(row.enrolled) };
  }

  /** The counters equal the rows, and changed by `delta` since `before`. */
  async function expectCounters(before: { users: number; enrolled: number }, delta: { users: number; enrolled: number }) {
    const actual = await counted();
    expect({ users: await countUsers(t.db), enrolled: await countEnrolledUsers(t.db) }).toEqual(actual);
    expect(actual).toEqual({ users: before.users + delta.users, enrolled: before.enrolled + delta.enrolled });
  }

  it("counts a created user, and not a creation refused for a taken email", async () => {
    const before = await counted();
    const user = await newUser(t.db);
    await expectCounters(before, { users: 1, enrolled: 0 });
    const again = await createUser(t.db, { name: "Twin", email: user.email, password: PASSWORD, admin: false }, null, CONTEXT);
    expect(again).toEqual({ ok: false, error: "email_taken" });
    await expectCounters(before, { users: 1, enrolled: 0 });
  });

  it("counts an enrollment once confirmed, not while it is only started (or restarted)", async () => {
    const user = await newUser(t.db);
    const before = await counted();
    const started = await startEnrollment(t.db, user);
    if (!started.ok) throw new Error(started.error);
    const restarted = await startEnrollment(t.db, user);
    if (!restarted.ok) throw new Error(restarted.error);
    await expectCounters(before, { users: 0, enrolled: 0 });
    expect((await confirmEnrollment(t.db, user.id, codeAt(restarted.secret), CONTEXT)).ok).toBe(true);
    await expectCounters(before, { users: 0, enrolled: 1 });
    expect(await startEnrollment(t.db, user)).toEqual({ ok: false, error: "already_enabled" });
    await expectCounters(before, { users: 0, enrolled: 1 });
  });

  it("uncounts 2FA disabled by its user with a current code", async () => {
    const user = await enrolledUser(t.db);
    const before = await counted();
    expect(await disableTwoFactor(t.db, user.id, codeAt(user.secret), CONTEXT)).toMatchObject({ ok: true });
    await expectCounters(before, { users: 0, enrolled: -1 });
  });

  it("uncounts 2FA removed by an administrator, and not an enrollment required of a user who has none", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await enrolledUser(t.db);
    const plain = await newUser(t.db);
    const before = await counted();
    const session = await confirmedSession(t.db, admin);
    const edit = (target: { id: string; name: string; email: string }, twoFactorEnabled: boolean) =>
      updateUserProperties(t.db, session, target.id, { name: target.name, email: target.email, admin: false, twoFactorEnabled }, CONTEXT);
    expect(await edit(user, false)).toEqual({ ok: true });
    await expectCounters(before, { users: 0, enrolled: -1 });
    expect(await edit(plain, true)).toEqual({ ok: true }); // "required": no credential yet
    await expectCounters(before, { users: 0, enrolled: -1 });
  });

  it("counts a bulk seed batch by batch, and nothing for the users a second run skips", async () => {
    const before = await counted();
    const hash = "seeded users share this hash";
    const first = await seedUsers(t.db, { count: 1_200, passwordHash: hash });
    const enrolledSeeded = (await counted()).enrolled - before.enrolled;
    expect(enrolledSeeded).toBeGreaterThan(0);
    await expectCounters(before, { users: first.inserted, enrolled: enrolledSeeded });
    expect(await seedUsers(t.db, { count: 1_200, passwordHash: hash })).toEqual({ inserted: 0, skipped: 1_200 });
    await expectCounters(before, { users: first.inserted, enrolled: enrolledSeeded });
  });

  it("uncounts a deleted user and, through the cascade, their credential", async () => {
    const user = await enrolledUser(t.db);
    const before = await counted();
    await t.db.delete(users).where(eq(users.id, user.id));
    await expectCounters(before, { users: -1, enrolled: -1 });
  });

  it("keeps exact counts under concurrent creations and enrollments (separate connections on PostgreSQL)", async () => {
    const people = await Promise.all(Array.from({ length: 12 }, () => newUser(t.db)));
    const before = await counted();
    const enrollments = await Promise.all(people.map((p) => startEnrollment(t.db, p)));
    const results = await Promise.all(
      enrollments.map((started, i) => (started.ok ? confirmEnrollment(t.db, people[i].id, codeAt(started.secret), CONTEXT) : started)),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const created = await Promise.all(Array.from({ length: 12 }, () => newUser(t.db)));
    expect(created).toHaveLength(12);
    await expectCounters(before, { users: 12, enrolled: 12 });
  });

  it("keeps exact counts when two transactions race to add and remove (one waits for the other's row)", async () => {
    const enrolled = await Promise.all(Array.from({ length: 6 }, () => enrolledUser(t.db)));
    const before = await counted();
    await Promise.all([
      ...enrolled.map((u) => disableTwoFactor(t.db, u.id, codeAt(u.secret), CONTEXT)),
      seedUsers(t.db, { count: 1_500, passwordHash: "another seeded hash" }), // adds the 300 missing after the first seed
    ]);
    const seededNow = (await counted()).users - before.users;
    expect(seededNow).toBe(300);
    const enrolledDelta = (await counted()).enrolled - before.enrolled;
    await expectCounters(before, { users: seededNow, enrolled: enrolledDelta });
  });

  // Only PostgreSQL has two connections: on PGlite the second statement would wait behind the open transaction for ever.
  if (driver === "postgres") it("makes a second enrollment wait for the counter row of an open first one, then add to it", async () => {
    const [a, b] = await Promise.all([newUser(t.db), newUser(t.db)]);
    for (const user of [a, b]) expect((await startEnrollment(t.db, user)).ok).toBe(true);
    const before = await counted();
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let updated = () => {};
    const firstUpdated = new Promise<void>((resolve) => (updated = resolve));
    const enable = (db: Database | Parameters<Parameters<Database["transaction"]>[0]>[0], userId: string) =>
      db.update(totpCredentials).set({ enabledAt: sql`now()` }).where(eq(totpCredentials.userId, userId));
    const first = t.db.transaction(async (tx) => {
      await enable(tx, a.id);
      updated();
      await held;
    });
    await firstUpdated;
    const second = (async () => void (await enable(t.db, b.id)))();
    const waiting = await Promise.race([second.then(() => "done"), new Promise((resolve) => setTimeout(() => resolve("waiting"), 300))]);
    expect(waiting).toBe("waiting");
    release();
    await Promise.all([first, second]);
    await expectCounters(before, { users: 0, enrolled: 2 });
  });

  it("starts again from zero after TRUNCATE", async () => {
    await t.db.execute(sql`truncate users cascade`);
    expect({ users: await countUsers(t.db), enrolled: await countEnrolledUsers(t.db) }).toEqual({ users: 0, enrolled: 0 });
    await newUser(t.db);
    await expectCounters({ users: 0, enrolled: 0 }, { users: 1, enrolled: 0 });
  });
});
