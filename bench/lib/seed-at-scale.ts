import { randomUUID } from "node:crypto";
import postgres, { type Sql } from "postgres";
import { encryptSecret } from "@/lib/crypto";
import { benchEmail, benchTotpSecret, BENCH_EMAIL_DOMAIN } from "./config";
import type { BenchUser } from "./database";

/**
 * What a bulk load of `users` and `totp_credentials` is slowest at (PostgreSQL backend CPU time, 1 000 000
 * users): the two trigram GIN indexes of `users`, fastupdate off since migration 0006, where each row's ~35
 * trigrams go into the posting trees as it is inserted (~10 s per 100 000 rows, ~100 s for the million,
 * against ~9 s to build both afterwards); and the foreign key of `totp_credentials`, a row-level check that
 * locks each user's row (~7 s, against ~1 s to validate it in one pass). Both are dropped for the load and
 * made again from their own catalogue definitions, that is exactly as the migrations left them. Likewise the
 * trigger that counts each new app into `enrolled_users` (migration 0013: it locks each owner's `users` row):
 * off for the load, then the counts are rebuilt in one pass by the migration's own `enrolled_users_rebuild()`.
 */
const DEFERRED_TRIGGER = { table: "totp_credentials", name: "totp_credentials_counted_insert" };
const DEFERRED_INDEXES = ["users_name_trgm_idx", "users_email_trgm_idx"];
const DEFERRED_FOREIGN_KEYS = ["totp_credentials_user_id_users_id_fk"];

type Deferred = { indexes: string[]; foreignKeys: { table: string; name: string; definition: string }[] };
export type ScaleSeed = { pool: BenchUser[]; seconds: number; stages: Record<string, number> };

/**
 * `size` users with an enabled TOTP credential each, by `INSERT … SELECT … FROM generate_series`. Only the
 * `poolSize` users the load generator signs in (every size/poolSize-th user, so that their rows are spread
 * over the table as real sign-ins are) get a real secret, encrypted by the app's own `encryptSecret` with
 * their id as the associated data; the others get a ciphertext of the same length bound to no user (never
 * decrypted: they never sign in). Then VACUUM ANALYZE, as autovacuum would have done on a server.
 * The load is CPU-bound in PostgreSQL's backend: it runs in two halves on two connections, one per core.
 */
export async function seedTotpUsersAtScale(url: string, size: number, poolSize: number, passwordHash: string): Promise<ScaleSeed> {
  if (size % poolSize !== 0 || size % 2 !== 0) throw new Error(`${size} users cannot be split in pools of ${poolSize}`);
  const started = performance.now();
  const stages: Record<string, number> = {};
  const stage = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const result = await work();
    stages[name] = Number(((performance.now() - t0) / 1000).toFixed(1));
    return result;
  };
  const stride = size / poolSize;
  const pool: BenchUser[] = Array.from({ length: poolSize }, (_, k) => {
    const n = (k + 1) * stride;
    return { n, id: randomUUID(), email: benchEmail(n), secret: benchTotpSecret(n) };
  });
  const ciphertexts = pool.map((u) => encryptSecret(u.secret, u.id));
  const placeholder = encryptSecret(benchTotpSecret(0), "no user");
  const clients = [0, 1].map(() => postgres(url, { max: 1, onnotice: () => {} }));
  const [sql] = clients;
  try {
    const before = await schemaFingerprint(sql);
    const deferred = await dropDeferred(sql);
    await sql.unsafe(`alter table "${DEFERRED_TRIGGER.table}" disable trigger "${DEFERRED_TRIGGER.name}"`);
    const half = size / 2;
    // The emails padded as benchEmail pads them: at least 6 digits, never cut (lpad alone cuts 1000000 to 100000).
    await stage("insert", () =>
      Promise.all(
        clients.map((client, i) => client`
          with inserted as (
            insert into users (id, name, email, password_hash)
            select coalesce(pool.id, gen_random_uuid()), 'Bench User ' || g,
                   'bench' || lpad(g::text, greatest(6, length(g::text)), '0') || ${"@" + BENCH_EMAIL_DOMAIN}, ${passwordHash}
            from generate_series(${i * half + 1}::int, ${(i + 1) * half}::int) as g
            left join unnest(${pool.map((u) => u.n)}::int[], ${pool.map((u) => u.id)}::uuid[]) as pool(n, id) on pool.n = g
            returning id
          )
          insert into totp_credentials (user_id, secret_ciphertext, enabled_at)
          select inserted.id, coalesce(pool.ciphertext, ${placeholder}), now()
          from inserted left join unnest(${pool.map((u) => u.id)}::uuid[], ${ciphertexts}::text[]) as pool(id, ciphertext) using (id)`),
      ),
    );
    await stage("indexes", () => remake(clients, deferred));
    await stage("counts", async () => {
      await sql.unsafe(`alter table "${DEFERRED_TRIGGER.table}" enable trigger "${DEFERRED_TRIGGER.name}"`);
      await sql`select enrolled_users_rebuild()`;
      const [counted] = await sql<{ enrolled: string }[]>`select enrolled from user_counts where id = 1`;
      if (Number(counted?.enrolled) !== size) throw new Error(`user_counts says ${counted?.enrolled} enrolled users, not ${size}`);
    });
    if ((await schemaFingerprint(sql)) !== before) throw new Error("seeding changed the schema of the bench database");
    await stage("vacuum", () => sql`vacuum analyze users, totp_credentials`);
    // By primary key: a join on (id, email) may be planned through the email trigram index, ~1 M rows per email.
    const rows = await sql<{ id: string; email: string }[]>`select id, email from users where id = any(${pool.map((u) => u.id)}::uuid[])`;
    const emails = new Map(rows.map((r) => [r.id, r.email]));
    if (pool.some((u) => emails.get(u.id) !== u.email)) throw new Error("the pool users were not seeded under their bench ids and emails");
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
  return { pool, seconds: (performance.now() - started) / 1000, stages };
}

/** Drops the deferred indexes and keys, returning what remakes them; refuses if the migrations renamed them. */
async function dropDeferred(sql: Sql): Promise<Deferred> {
  const indexes = await sql<{ name: string; definition: string }[]>`
    select indexname as name, indexdef as definition from pg_indexes
    where schemaname = 'public' and indexname in ${sql(DEFERRED_INDEXES)}`;
  const foreignKeys = await sql<{ table: string; name: string; definition: string }[]>`
    select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as definition from pg_constraint
    where connamespace = 'public'::regnamespace and conname in ${sql(DEFERRED_FOREIGN_KEYS)}`;
  if (indexes.length !== DEFERRED_INDEXES.length || foreignKeys.length !== DEFERRED_FOREIGN_KEYS.length) {
    throw new Error("the migrations no longer have the indexes and keys the seeding defers: update seed-at-scale.ts");
  }
  for (const index of indexes) await sql.unsafe(`drop index "${index.name}"`);
  for (const key of foreignKeys) await sql.unsafe(`alter table "${key.table}" drop constraint "${key.name}"`);
  return { indexes: indexes.map((i) => i.definition), foreignKeys };
}

/** The indexes built side by side (one per connection), then the keys validated. */
async function remake(clients: Sql[], deferred: Deferred): Promise<void> {
  await Promise.all(
    clients.map(async (client, i) => {
      // Memory for the build (the default 64 MB spills the trigram sort to disk): a setting of this session, not the schema.
      await client`set maintenance_work_mem = '256MB'`;
      for (const definition of deferred.indexes.filter((_, k) => k % clients.length === i)) await client.unsafe(definition);
    }),
  );
  for (const key of deferred.foreignKeys) await clients[0].unsafe(`alter table "${key.table}" add constraint "${key.name}" ${key.definition}`);
}

/** Every index and constraint of the app's schema as PostgreSQL prints it (options such as fastupdate included). */
async function schemaFingerprint(sql: Sql): Promise<string> {
  const rows = await sql<{ line: string }[]>`
    select 'index ' || tablename || '.' || indexname || ': ' || indexdef as line from pg_indexes where schemaname = 'public'
    union all
    select 'constraint ' || conrelid::regclass || '.' || conname || ': ' || pg_get_constraintdef(oid) || case when convalidated then '' else ' not valid' end
    from pg_constraint where connamespace = 'public'::regnamespace
    order by line`;
  return rows.map((r) => r.line).join("\n");
}
