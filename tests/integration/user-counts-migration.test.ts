import { randomUUID } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db";
import { countEnrolledUsers, countUsers } from "@/lib/users";
import { openUnmigratedDatabase, testDrivers, type Opened } from "./support/databases";
import { rawRows } from "./support/fixtures";
import { countedFromRows, miscountedUsers } from "./support/user-counts";

const LAST_BEFORE = 12; // 0012: the migrations an existing database has before 0013

/**
 * Migration 0013 on a database that already has authenticator apps and
 * security keys: it must count them itself (the triggers see only later
 * writes), on both drivers, and leave the triggers counting from there.
 */
describe.each(testDrivers())("migration 0013 (enrolled users with keys) on %s", (driver) => {
  let opened: Opened | undefined;
  const folder = migrationsUpTo(LAST_BEFORE);
  beforeAll(async () => {
    opened = await openUnmigratedDatabase(driver);
  });
  afterAll(async () => {
    await opened?.dispose();
    rmSync(folder, { recursive: true, force: true });
  });

  it("counts the users enrolled before it once each (app, keys, both; not a pending app), and the triggers go on from there", async () => {
    const { handle } = opened!;
    await migrateWith(handle, folder);
    const [app, keys, both, pendingAndKey, none] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    for (const id of [app, keys, both, pendingAndKey, none]) {
      await handle.db.execute(sql`insert into users (id, name, email, password_hash) values (${id}, 'Before', ${`${id}@example.test`}, 'hash')`);
    }
    await handle.db.execute(sql`insert into totp_credentials (user_id, secret_ciphertext, enabled_at)
      values (${app}, 'x', now()), (${both}, 'x', now()), (${pendingAndKey}, 'x', null)`);
    for (const owner of [keys, keys, both, pendingAndKey]) {
      await handle.db.execute(sql`insert into security_keys (user_id, credential_id, public_key, device_type, backed_up, user_verified, aaguid, name)
        values (${owner}, ${`before-${randomUUID()}`}, 'k', 'multiDevice', true, true, '00000000-0000-0000-0000-000000000000', 'Before')`);
    }
    const [old] = await rawRows<{ enrolled: number | string }>(handle.db, sql`select enrolled from user_counts`);
    expect(Number(old.enrolled)).toBe(2); // 0006 counted the enabled apps only

    await handle.migrate();
    expect({ users: await countUsers(handle.db), enrolled: await countEnrolledUsers(handle.db) }).toEqual({ users: 5, enrolled: 4 });
    const factors = await rawRows<{ user_id: string; factors: number }>(handle.db, sql`select user_id, factors from enrolled_users`);
    expect(Object.fromEntries(factors.map((row) => [row.user_id, Number(row.factors)]))).toEqual({ [app]: 1, [keys]: 2, [both]: 2, [pendingAndKey]: 1 });

    await handle.db.execute(sql`delete from security_keys where user_id = ${keys}`);
    await handle.db.execute(sql`delete from totp_credentials where user_id = ${both}`);
    expect(await countEnrolledUsers(handle.db)).toBe(3);
    expect(await countEnrolledUsers(handle.db)).toBe((await countedFromRows(handle.db)).enrolled);
    expect(await miscountedUsers(handle.db)).toBe(0);
  });
});

/** A copy of drizzle/ whose journal ends at migration `last`. */
function migrationsUpTo(last: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `migrations-to-${last}-`));
  cpSync(path.join(process.cwd(), "drizzle"), dir, { recursive: true });
  const journalPath = path.join(dir, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { idx: number }[] };
  journal.entries = journal.entries.filter((entry) => entry.idx <= last);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

async function migrateWith(handle: DatabaseHandle, migrationsFolder: string): Promise<void> {
  if (handle.driver === "pglite") {
    const { migrate } = await import("drizzle-orm/pglite/migrator");
    await migrate(handle.db as unknown as Parameters<typeof migrate>[0], { migrationsFolder });
  } else {
    const { migrate } = await import("drizzle-orm/postgres-js/migrator");
    await migrate(handle.db as unknown as Parameters<typeof migrate>[0], { migrationsFolder });
  }
}
