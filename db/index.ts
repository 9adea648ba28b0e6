import path from "node:path";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema";
import { acquireLock } from "./lock";

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** A database or a transaction: query helpers accept either so callers can compose them. */
export type Executor = Database | Transaction;

export type DatabaseHandle = {
  db: Database;
  driver: "pglite" | "postgres";
  migrate(): Promise<void>;
  close(): Promise<void>;
};

const MIGRATIONS_FOLDER = path.join(process.cwd(), "drizzle");
// Several app instances may start at once on one PostgreSQL: only one migrates at a time.
const MIGRATION_LOCK_ID = 727_274_001;

/** Opens PostgreSQL when `url` is given, else the embedded PGlite in `dataDir` (null dataDir: in memory). */
export async function openDatabase(options: { url: string | null; dataDir: string | null }): Promise<DatabaseHandle> {
  return options.url ? openPostgres(options.url) : openPglite(options.dataDir);
}

async function openPostgres(url: string): Promise<DatabaseHandle> {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const { migrate } = await import("drizzle-orm/postgres-js/migrator");
  const client = postgres(url, { max: Number(process.env.DATABASE_POOL_MAX || 10), onnotice: () => {} });
  const db = drizzle(client, { schema });
  return {
    db: db as unknown as Database,
    driver: "postgres",
    async migrate() {
      const lockClient = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await lockClient`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
        await migrate(drizzle(lockClient, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
      } finally {
        await lockClient.end();
      }
    },
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir: string | null): Promise<DatabaseHandle> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  // Loaded at every open, not only when migrating: the Users search indexes (0003) need it to be read.
  const { pg_trgm } = await import("@electric-sql/pglite/contrib/pg_trgm");
  const release = dataDir ? acquireLock(dataDir) : () => {};
  // Next's own SIGTERM handler exits without waiting for us: drop the lock synchronously on exit.
  process.once("exit", release);
  try {
    const client = await PGlite.create({
      dataDir: dataDir ? path.join(dataDir, "pglite") : undefined,
      extensions: { pg_trgm },
    });
    const db = drizzle(client, { schema });
    return {
      db: db as unknown as Database,
      driver: "pglite",
      migrate: () => migrate(db, { migrationsFolder: MIGRATIONS_FOLDER }),
      async close() {
        await client.close();
        process.off("exit", release);
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

export { schema };
