import path from "node:path";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema";
import { acquireLock } from "./lock";

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** A database or a transaction: query helpers accept either so callers can compose them. */
export type Executor = Database | Transaction;

export type DatabaseHandle = {
  /** May be a new pool after a PostgreSQL outage: read it per use, do not keep it. */
  readonly db: Database;
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

/** Whole-pool rotation (postgres.js's own per-connection max_lifetime is off: see openPostgres). */
const POOL_LIFETIME_MS = 30 * 60 * 1000;
/** During an outage every failed connect closes a connection: at most one new pool a second. */
const POOL_REPLACE_MIN_INTERVAL_MS = 1000;
/** An old pool's requests in flight get this long to finish before it is ended. */
const POOL_DRAIN_MS = 10_000;

async function openPostgres(url: string): Promise<DatabaseHandle> {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const { migrate } = await import("drizzle-orm/postgres-js/migrator");
  type Pool = { client: ReturnType<typeof postgres>; db: Database; tainted: boolean; createdAt: number };

  // postgres.js 3.4.9 mishandles a connection that drops *inside a transaction*: it writes the
  // ROLLBACK to the dead socket (uncaught "Cannot read properties of null (reading
  // 'write')", porsager/postgres#1154, #1208, fix PR #1168 unreleased) and that connection object
  // keeps a stale write timer, so its next connection never sends its startup message and waits
  // out connect_timeout, again and again. No option avoids it, so a connection that closes without
  // being asked to (server restart, crash, network) taints its whole pool, and the next use of the
  // database gets a fresh pool. Planned closes would look the same, hence no per-connection
  // max_lifetime: the whole pool is rotated instead.
  let closing = false;
  const retired = new Set<Pool>();
  const newPool = (): Pool => {
    const pool = {} as Pool;
    pool.client = postgres(url, {
      max: Number(process.env.DATABASE_POOL_MAX || 10), // both checked at start: lib/env.ts
      onnotice: () => {},
      max_lifetime: null,
      // The default backoff grows to 10–20 s after a few failed reconnects (an outage of seconds under
      // load): the first request after PostgreSQL is back would wait that long. Retry within a second.
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
      // A connect that hangs (the stale-timer bug above, or a server mid-restart) holds its request
      // for this long; a healthy connect, even to a managed server across a region, takes well under 1 s.
      connect_timeout: Number(process.env.DATABASE_CONNECT_TIMEOUT || 3),
      onclose: () => {
        if (!closing && !retired.has(pool)) pool.tainted = true;
      },
    });
    pool.db = drizzle(pool.client, { schema }) as unknown as Database;
    pool.tainted = false;
    pool.createdAt = Date.now();
    return pool;
  };
  const retire = (pool: Pool) => {
    retired.add(pool);
    const timer = setTimeout(() => void pool.client.end({ timeout: 5 }).finally(() => retired.delete(pool)), POOL_DRAIN_MS);
    timer.unref();
  };
  let current = newPool();

  return {
    /** The current pool's database; read it per request (getDb()), not once for the process. */
    get db() {
      const age = Date.now() - current.createdAt;
      if ((current.tainted && age >= POOL_REPLACE_MIN_INTERVAL_MS) || age >= POOL_LIFETIME_MS) {
        retire(current);
        current = newPool();
      }
      return current.db;
    },
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
    async close() {
      closing = true;
      await Promise.all([current, ...retired].map((pool) => pool.client.end({ timeout: 5 })));
    },
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
      // turbopackIgnore: traced, this path made the build copy every ./**/pglite folder (databases) into .next/standalone.
      dataDir: dataDir ? path.join(/*turbopackIgnore: true*/ dataDir, "pglite") : undefined,
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
