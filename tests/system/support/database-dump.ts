import { sql } from "drizzle-orm";
import { openDatabase, type Database } from "@/db";
import type { Storage } from "./server";

/**
 * Opens the storage of a test server with the app's own openDatabase().
 * PostgreSQL: any time. PGlite: only while the server is stopped (the pid lock
 * in db/lock.ts refuses otherwise — PGlite has no lock between processes).
 */
export async function withDatabase<T>(storage: Storage, work: (db: Database) => Promise<T>): Promise<T> {
  const handle = await openDatabase("databaseUrl" in storage ? { url: storage.databaseUrl, dataDir: null } : { url: null, dataDir: storage.dataDir });
  try {
    return await work(handle.db);
  } finally {
    await handle.close();
  }
}

/** Rows of a raw query on either driver (PGlite answers `{ rows }`, postgres.js an array). */
export async function rows<T>(db: Database, query: ReturnType<typeof sql>): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** Every row of every table outside the system schemas, each row as JSON text, by table. */
export async function dumpAllTables(db: Database): Promise<Map<string, string[]>> {
  const tables = await rows<{ table_schema: string; table_name: string }>(
    db,
    sql`select table_schema, table_name from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
  );
  const dump = new Map<string, string[]>();
  for (const { table_schema, table_name } of tables) {
    const found = await rows<{ row: string }>(
      db,
      sql`select row_to_json(x)::text as row from ${sql.identifier(table_schema)}.${sql.identifier(table_name)} x`,
    );
    dump.set(`${table_schema}.${table_name}`, found.map((r) => r.row));
  }
  return dump;
}
