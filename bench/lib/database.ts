import { randomBytes, randomUUID } from "node:crypto";
import postgres from "postgres";
import { sql } from "drizzle-orm";
import { openDatabase, type Database, type DatabaseHandle } from "@/db";
import { totpCredentials, users } from "@/db/schema";
import { encryptSecret } from "@/lib/crypto";
import { benchEmail, benchTotpSecret } from "./config";

/** The PostgreSQL server the bench creates its throwaway databases on. */
export const PG_SERVER = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export type PgDatabase = { url: string; name: string; drop(): Promise<void> };

/** A new empty database; `drop()` removes it (also on a failed run, from the orchestrator's finally). */
export async function createPgDatabase(label: string): Promise<PgDatabase> {
  const name = `bench_${label}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(PG_SERVER, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_SERVER);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const sql = postgres(PG_SERVER, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
      await sql.end();
    },
  };
}

/** Opens (and migrates) a database the way the app does, for seeding it before the server starts. */
export async function openMigrated(storage: { url: string } | { dataDir: string }): Promise<DatabaseHandle> {
  const handle = await openDatabase("url" in storage ? { url: storage.url, dataDir: null } : { url: null, dataDir: storage.dataDir });
  await handle.migrate();
  return handle;
}

export type BenchUser = { n: number; id: string; email: string; secret: string };

/**
 * Bench users 1…count: the shared password hash, each with an enabled TOTP
 * credential whose secret the generator can derive (config.ts), encrypted by
 * the app's own lib/crypto so that the server reads it as its own.
 */
export async function seedBenchUsers(db: Database, count: number, passwordHash: string): Promise<BenchUser[]> {
  const seeded: BenchUser[] = [];
  const BATCH = 1_000;
  for (let start = 1; start <= count; start += BATCH) {
    const batch: BenchUser[] = [];
    for (let n = start; n < Math.min(count + 1, start + BATCH); n++) {
      batch.push({ n, id: randomUUID(), email: benchEmail(n), secret: benchTotpSecret(n) });
    }
    await db.transaction(async (tx) => {
      await tx.insert(users).values(batch.map((u) => ({ id: u.id, name: `Bench User ${u.n}`, email: u.email, passwordHash })));
      await tx.insert(totpCredentials).values(
        batch.map((u) => ({ userId: u.id, secretCiphertext: encryptSecret(u.secret, u.id), enabledAt: new Date() })),
      );
    });
    seeded.push(...batch);
  }
  await db.execute(sql`analyze ${users}, ${totpCredentials}`);
  return seeded;
}
