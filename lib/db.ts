import "server-only";
import { openDatabase, type Database, type DatabaseHandle } from "@/db";
import { databaseUrl, dataDir } from "@/lib/env";

// Next compiles instrumentation, pages and actions as separate module graphs:
// keep the one handle on globalThis so every graph shares it.
const state = globalThis as typeof globalThis & { __database?: Promise<DatabaseHandle> };

/** The process-wide database handle, opened on first use. */
export function databaseHandle(): Promise<DatabaseHandle> {
  state.__database ??= openDatabase({ url: databaseUrl(), dataDir: databaseUrl() ? null : dataDir() }).catch(
    (error: unknown) => {
      state.__database = undefined;
      throw error;
    },
  );
  return state.__database;
}

export async function getDb(): Promise<Database> {
  return (await databaseHandle()).db;
}

/** Tests and the CLI install a handle they opened themselves. */
export function installDatabaseHandle(handle: DatabaseHandle): void {
  state.__database = Promise.resolve(handle);
}
