import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, expect, inject } from "vitest";
import { openDatabase, type Database, type DatabaseHandle } from "@/db";
import { installDatabaseHandle } from "@/lib/db";

export type Driver = DatabaseHandle["driver"];

/** The drivers every integration suite runs on: PGlite always, PostgreSQL too when DATABASE_URL is set. */
export function testDrivers(): Driver[] {
  return process.env.DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
}

export type TestDatabase = { readonly db: Database; readonly handle: DatabaseHandle };

export type Opened = { handle: DatabaseHandle; dispose(): Promise<void> };

/**
 * Opens a database of its own for the enclosing describe block (a copy of the
 * migrated PGlite template, or a new PostgreSQL database on DATABASE_URL's
 * server), migrates it, installs it as the process handle, and removes it afterwards.
 */
export function useTestDatabase(driver: Driver): TestDatabase {
  let opened: Opened | undefined;
  beforeAll(async () => {
    opened = driver === "pglite" ? await openPgliteCopy() : await openPostgresDatabase();
    expect(opened.handle.driver).toBe(driver);
    await opened.handle.migrate();
    installDatabaseHandle(opened.handle);
  });
  afterAll(async () => {
    await opened?.dispose();
  });
  const current = (): DatabaseHandle => {
    if (!opened) throw new Error("The test database is opened in beforeAll: use it inside a test or hook.");
    return opened.handle;
  };
  return {
    get db() {
      return current().db;
    },
    get handle() {
      return current();
    },
  };
}

/** A database with no migration applied, for a migration's own test: a new in-memory PGlite (~6 s of CPU), or a new PostgreSQL database. */
export async function openUnmigratedDatabase(driver: Driver): Promise<Opened> {
  if (driver === "postgres") return openPostgresDatabase();
  const handle = await openDatabase({ url: null, dataDir: null });
  return { handle, dispose: () => handle.close() };
}

async function openPgliteCopy(): Promise<Opened> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vitest-pglite-"));
  cpSync(inject("pgliteTemplateDir"), dataDir, { recursive: true });
  const handle = await openDatabase({ url: null, dataDir });
  return {
    handle,
    async dispose() {
      await handle.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function openPostgresDatabase(): Promise<Opened> {
  const serverUrl = new URL(process.env.DATABASE_URL!);
  const name = `test_${randomBytes(8).toString("hex")}`;
  const admin = postgres(serverUrl.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString(), dataDir: null });
  return {
    handle,
    async dispose() {
      try {
        await handle.close();
        await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
