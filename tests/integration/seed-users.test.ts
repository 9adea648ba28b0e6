import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { totpCredentials, users } from "@/db/schema";
import { hasAdministrator, SEED_BATCH_SIZE, seedUserAt, seedUsers } from "@/lib/admin/seed-users";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import { decryptSecret } from "@/lib/crypto";
import { searchUsers } from "@/lib/users";
import { testDrivers, useTestDatabase } from "./support/databases";
import { newUser } from "./support/fixtures";

/** `npm run seed -- --users N`: test users in bulk for trying the Users page at scale. */
describe.each(testDrivers())("seeding users on %s", (driver) => {
  const t = useTestDatabase(driver);
  const PASSWORD = "seeded users' password";

  it("knows whether an administrator exists (seeding without one would hide the setup link)", async () => {
    expect(await hasAdministrator(t.db)).toBe(false);
    await newUser(t.db);
    expect(await hasAdministrator(t.db)).toBe(false);
    await newUser(t.db, { admin: true });
    expect(await hasAdministrator(t.db)).toBe(true);
  });

  it("inserts deterministic users with a mix of 2FA states, skipping those that exist on a second run", async () => {
    const passwordHash = await hashPassword(PASSWORD);
    expect(await seedUsers(t.db, { count: 30, passwordHash })).toEqual({ inserted: 30, skipped: 0 });
    const batches: number[] = [];
    const second = await seedUsers(t.db, { count: SEED_BATCH_SIZE + 5, passwordHash, onBatch: (done) => batches.push(done) });
    expect(second).toEqual({ inserted: SEED_BATCH_SIZE + 5 - 30, skipped: 30 });
    expect(batches).toEqual([SEED_BATCH_SIZE, SEED_BATCH_SIZE + 5]);

    const expected = { on: 0, off: 0, required: 0 };
    for (let n = 1; n <= SEED_BATCH_SIZE + 5; n++) expected[seedUserAt(n).state]++;
    expect(expected.on).toBeGreaterThan(0);
    expect(expected.required).toBeGreaterThan(0);
    const seeded = (filter: "on" | "off" | "required") => searchUsers(t.db, { query: "@seed.example", page: 1, filter });
    expect((await seeded("on")).total).toBe(expected.on);
    expect((await seeded("off")).total).toBe(expected.off);
    expect((await seeded("required")).total).toBe(expected.required);
  });

  it("gives each seeded user the shared password and each enrolled one its own encrypted secret", async () => {
    const [first] = await t.db.select().from(users).where(eq(users.email, "user00001@seed.example"));
    expect(first.name).toBe(seedUserAt(1).name);
    expect(await verifyPassword(first.passwordHash, PASSWORD)).toBe(true);
    const credentials = await t.db.select().from(totpCredentials).limit(20);
    const secrets = credentials.map((c) => decryptSecret(c.secretCiphertext, c.userId));
    expect(secrets.every((s) => /^[A-Z2-7]{32}$/.test(s))).toBe(true);
    expect(new Set(secrets).size).toBe(secrets.length);
    expect(credentials.every((c) => c.enabledAt !== null)).toBe(true);
  });
});
