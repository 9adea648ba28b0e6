import { eq, inArray, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Executor } from "@/db";
import { securityKeys, totpCredentials, users } from "@/db/schema";
import { updateUserProperties } from "@/lib/admin/user-properties";
import { seedUsers } from "@/lib/admin/seed-users";
import { confirmAdmin, type AdminSession } from "@/lib/admin/step-up";
import { removeSecurityKey } from "@/lib/security-keys/manage";
import { finishKeyRegistration, startKeyRegistration } from "@/lib/security-keys/registration";
import { confirmEnrollment, removeTwoFactor, startEnrollment } from "@/lib/two-factor/enrollment";
import { disableTwoFactor } from "@/lib/two-factor/manage";
import { countEnrolledUsers, countUsers, createUser } from "@/lib/users";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, confirmedSession, CONTEXT, enrolledUser, newUser, PASSWORD, rewindLastUsedStep, type EnrolledUser } from "./support/fixtures";
import { addKey, liveSession } from "./support/security-keys";
import { runAsTestRelyingParty, softwareKey } from "./support/software-key";
import { countedFromRows, insertKeys, miscountedUsers, secondWhileFirstOpen, type Counts } from "./support/user-counts";

runAsTestRelyingParty();

/**
 * The Users page's totals come from `user_counts`, kept by triggers
 * (migrations 0006 and 0013) rather than by the code that writes: each test
 * changes users or their 2FA — the authenticator app, security keys — through
 * one of the app's write paths (or plain SQL, which the triggers see the same)
 * and compares the counters with a count of the rows themselves.
 */
describe.each(testDrivers())("user counters on %s", (driver) => {
  const t = useTestDatabase(driver);
  const counted = (): Promise<Counts> => countedFromRows(t.db);

  /** The counters equal the rows (each user's factors too), and changed by `delta` since `before`. */
  async function expectCounters(before: Counts, delta: Counts) {
    expect(await miscountedUsers(t.db)).toBe(0);
    const actual = await counted();
    expect({ users: await countUsers(t.db), enrolled: await countEnrolledUsers(t.db) }).toEqual(actual);
    expect(actual).toEqual({ users: before.users + delta.users, enrolled: before.enrolled + delta.enrolled });
  }

  /** One more key, as My Settings adds it, in a session that has just confirmed (with the password, or the app's code). */
  async function registerKey(session: AdminSession): Promise<string> {
    const started = await startKeyRegistration(t.db, session);
    if (!started.ok) throw new Error(started.error);
    const added = await finishKeyRegistration(t.db, session, softwareKey().register(started.options), "Another key", CONTEXT);
    if (!added.ok) throw new Error(added.error);
    return added.id;
  }

  /** A session of an app user that has confirmed with a current code (Add security key asks for it). */
  async function codeConfirmed(user: EnrolledUser): Promise<AdminSession> {
    const session = await liveSession(t.db, user);
    expect(await confirmAdmin(t.db, session, codeAt(user.secret), CONTEXT)).toBe("ok");
    await rewindLastUsedStep(t.db, user.id);
    return session;
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

  it("counts a user with security keys alone once, however many keys they add", async () => {
    const user = await newUser(t.db);
    const before = await counted();
    const { session } = await addKey(t.db, user);
    await expectCounters(before, { users: 0, enrolled: 1 });
    await registerKey(session);
    await insertKeys(t.db, [user.id, user.id]);
    await expectCounters(before, { users: 0, enrolled: 1 });
  });

  it("counts a user with both the authenticator app and keys once, whichever came first", async () => {
    const appFirst = await enrolledUser(t.db);
    const [keyFirst, keyThenSeededApp] = await Promise.all([newUser(t.db), newUser(t.db)]);
    const before = await counted();
    await registerKey(await codeConfirmed(appFirst));
    await insertKeys(t.db, [keyFirst.id, keyThenSeededApp.id]);
    await expectCounters(before, { users: 0, enrolled: 2 });
    // The app after the key: enabled by an UPDATE (the row trigger), or inserted enabled as the seeder does (the statement trigger).
    await t.db.insert(totpCredentials).values({ userId: keyFirst.id, secretCiphertext: "pending" });
    await t.db.update(totpCredentials).set({ enabledAt: sql`now()` }).where(eq(totpCredentials.userId, keyFirst.id));
    await t.db.insert(totpCredentials).values({ userId: keyThenSeededApp.id, secretCiphertext: "seeded", enabledAt: sql`now()` });
    await expectCounters(before, { users: 0, enrolled: 2 });
  });

  it("keeps a key user counted while any key remains, and uncounts them with the last one removed", async () => {
    const user = await newUser(t.db);
    const first = await addKey(t.db, user);
    const second = await registerKey(first.session);
    const before = await counted();
    expect(await removeSecurityKey(t.db, first.session, first.id, CONTEXT)).toEqual({ ok: true, twoFactorOff: null });
    await expectCounters(before, { users: 0, enrolled: 0 });
    expect(await removeSecurityKey(t.db, first.session, second, CONTEXT)).toMatchObject({ ok: true, twoFactorOff: { sessionVersion: expect.any(Number) } });
    await expectCounters(before, { users: 0, enrolled: -1 });
  });

  it("keeps counting a user whose app is disabled or deleted while a key remains", async () => {
    const [disabled, deleted] = await Promise.all([enrolledUser(t.db), enrolledUser(t.db)]);
    await insertKeys(t.db, [disabled.id, deleted.id]);
    const before = await counted();
    await t.db.update(totpCredentials).set({ enabledAt: null }).where(eq(totpCredentials.userId, disabled.id)); // the row trigger
    await t.db.delete(totpCredentials).where(eq(totpCredentials.userId, deleted.id)); // the statement trigger
    await expectCounters(before, { users: 0, enrolled: 0 });
    await t.db.delete(securityKeys).where(eq(securityKeys.userId, disabled.id));
    await expectCounters(before, { users: 0, enrolled: -1 });
  });

  it("uncounts once a user with the app and keys who disables 2FA (every factor goes)", async () => {
    const user = await enrolledUser(t.db);
    await registerKey(await codeConfirmed(user));
    await insertKeys(t.db, [user.id]);
    const before = await counted();
    expect(await disableTwoFactor(t.db, user.id, codeAt(user.secret), CONTEXT)).toMatchObject({ ok: true });
    await expectCounters(before, { users: 0, enrolled: -1 });
  });

  it("uncounts a deleted user with the app and keys once, through both cascades", async () => {
    const user = await enrolledUser(t.db);
    await insertKeys(t.db, [user.id, user.id]);
    const before = await counted();
    await t.db.delete(users).where(eq(users.id, user.id));
    await expectCounters(before, { users: -1, enrolled: -1 });
  });

  it("counts a bulk insert of keys in one statement: each newly enrolled user once, none already enrolled", async () => {
    const fresh = await Promise.all(Array.from({ length: 5 }, () => newUser(t.db)));
    const withApp = await enrolledUser(t.db);
    const withKey = await newUser(t.db);
    await insertKeys(t.db, [withKey.id]);
    const before = await counted();
    await insertKeys(t.db, [...fresh.map((u) => u.id), fresh[0].id, fresh[1].id, withApp.id, withKey.id]);
    await expectCounters(before, { users: 0, enrolled: fresh.length });
    // And a bulk delete: only the users left with no factor at all are uncounted.
    await t.db.delete(securityKeys).where(inArray(securityKeys.userId, [fresh[0].id, fresh[2].id, withApp.id]));
    await expectCounters(before, { users: 0, enrolled: fresh.length - 2 });
  });

  it("follows a key or an app moved to another user, one row or several in one statement", async () => {
    const owner = await enrolledUser(t.db);
    const [other, twoKeys, receiver] = await Promise.all([newUser(t.db), newUser(t.db), newUser(t.db)]);
    await insertKeys(t.db, [owner.id, twoKeys.id, twoKeys.id]);
    const before = await counted();
    await t.db.update(securityKeys).set({ userId: other.id }).where(eq(securityKeys.userId, owner.id));
    await expectCounters(before, { users: 0, enrolled: 1 }); // the owner keeps the app
    await t.db.update(totpCredentials).set({ userId: other.id }).where(eq(totpCredentials.userId, owner.id));
    await expectCounters(before, { users: 0, enrolled: 0 }); // the owner has nothing left; the other had a key already
    await t.db.update(securityKeys).set({ userId: receiver.id }).where(eq(securityKeys.userId, twoKeys.id));
    await expectCounters(before, { users: 0, enrolled: 0 });
  });

  it("after TRUNCATE of security_keys alone, users with the app stay counted", async () => {
    const withApp = await enrolledUser(t.db);
    await insertKeys(t.db, [withApp.id, (await newUser(t.db)).id]);
    await t.db.execute(sql`truncate security_keys`);
    await expectCounters(await counted(), { users: 0, enrolled: 0 }); // the counters equal the rows
    expect(await countEnrolledUsers(t.db)).toBeGreaterThan(0);
  });

  // Only PostgreSQL has two connections: on PGlite the second statement would wait behind the open transaction for ever.
  if (driver === "postgres") {
    const enable = (db: Executor, userId: string) =>
      db.update(totpCredentials).set({ enabledAt: sql`now()` }).where(eq(totpCredentials.userId, userId));

    it("makes a second enrollment wait for the counter row of an open first one, then add to it", async () => {
      const [a, b] = await Promise.all([newUser(t.db), newUser(t.db)]);
      for (const user of [a, b]) expect((await startEnrollment(t.db, user)).ok).toBe(true);
      const before = await counted();
      expect(await secondWhileFirstOpen(t.db, (tx) => enable(tx, a.id), () => enable(t.db, b.id))).toBe("waiting");
      await expectCounters(before, { users: 0, enrolled: 2 });
    });

    it("counts a user once when two transactions add their first keys at once (the second waits for the user's row, then adds to the first key)", async () => {
      const user = await newUser(t.db);
      const before = await counted();
      expect(await secondWhileFirstOpen(t.db, (tx) => insertKeys(tx, [user.id]), () => insertKeys(t.db, [user.id]))).toBe("waiting");
      await expectCounters(before, { users: 0, enrolled: 1 });
    });

    for (const first of ["key", "app"] as const) {
      it(`counts a user once when a key is added while the app is enabled in another transaction (${first} first)`, async () => {
        const user = await newUser(t.db);
        expect((await startEnrollment(t.db, user)).ok).toBe(true);
        const before = await counted();
        const addFirstKey = (db: Executor) => insertKeys(db, [user.id]);
        const enableApp = (db: Executor) => enable(db, user.id);
        const [one, other] = first === "key" ? [addFirstKey, enableApp] : [enableApp, addFirstKey];
        expect(await secondWhileFirstOpen(t.db, one, () => other(t.db))).toBe("waiting");
        await expectCounters(before, { users: 0, enrolled: 1 });
      });
    }

    it("every factor removed (Disable, reset-2fa) while the owner removes a key (10 rounds): no deadlock, the user uncounted once", async () => {
      const before = await counted();
      for (let round = 0; round < 10; round++) {
        const user = await enrolledUser(t.db);
        const session = await codeConfirmed(user);
        const [key] = [await registerKey(session), await registerKey(session)];
        const results = await Promise.allSettled([
          t.db.transaction((tx) => removeTwoFactor(tx, user.id)),
          removeSecurityKey(t.db, session, key, CONTEXT),
        ]);
        // Deleting the app locks the user's row and a key's removal takes key then user: keys deleted after the app deadlocked.
        expect(results.map((r) => (r.status === "rejected" ? String((r.reason as Error).cause ?? r.reason) : "ok"))).toEqual(["ok", "ok"]);
      }
      await expectCounters(before, { users: 10, enrolled: 0 });
    });

    it("uncounts a user once when their last key is removed while the app is disabled in another transaction", async () => {
      const user = await enrolledUser(t.db);
      await insertKeys(t.db, [user.id]);
      const before = await counted();
      const disableApp = (tx: Executor) => tx.update(totpCredentials).set({ enabledAt: null }).where(eq(totpCredentials.userId, user.id));
      expect(await secondWhileFirstOpen(t.db, disableApp, () => t.db.delete(securityKeys).where(eq(securityKeys.userId, user.id)))).toBe("waiting");
      await expectCounters(before, { users: 0, enrolled: -1 });
    });
  }

  it("starts again from zero after TRUNCATE", async () => {
    await t.db.execute(sql`truncate users cascade`);
    expect({ users: await countUsers(t.db), enrolled: await countEnrolledUsers(t.db) }).toEqual({ users: 0, enrolled: 0 });
    await newUser(t.db);
    await expectCounters({ users: 0, enrolled: 0 }, { users: 1, enrolled: 0 });
  });
});
