import "server-only";
import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Database } from "@/db";
import { totpCredentials, users } from "@/db/schema";
import { encryptSecret } from "@/lib/crypto";
import { newTotpSecret } from "@/lib/two-factor/totp";

/** Rows per INSERT: 1 000 users × 5 columns stays far below PostgreSQL's 65 535 parameters. */
export const SEED_BATCH_SIZE = 1_000;
export const SEED_EMAIL_DOMAIN = "seed.example";

const FIRST_NAMES = [
  "Ada", "Alan", "Amara", "Ana", "Ben", "Chen", "Chloé", "David", "Elena", "Emma", "Farid", "Grace", "Hana", "Ivan",
  "Jamal", "Jonas", "Kai", "Laura", "Leila", "Liam", "Lucía", "Marta", "Mei", "Noah", "Nora", "Omar", "Paul", "Priya",
  "Ravi", "Rosa", "Sam", "Sara", "Sofia", "Tariq", "Tom", "Uma", "Victor", "Wei", "Yara", "Zoe",
];
const LAST_NAMES = [
  "Adams", "Berg", "Brown", "Chen", "Costa", "de Vries", "Dubois", "Garcia", "Hansen", "Ibrahim", "Ito", "Jensen",
  "Kim", "Kowalski", "Lee", "Lopez", "Martin", "Meyer", "Moreau", "Müller", "Nakamura", "Nguyen", "Novak", "O'Brien",
  "Okafor", "Patel", "Popescu", "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Taylor",
  "van Dijk", "Wagner", "Wang", "Weber", "Yilmaz",
];

export type SeedTwoFactorState = "on" | "required" | "off";

/** Seeded user number `n` (from 1): a deterministic name, email and 2FA state. */
export function seedUserAt(n: number): { name: string; email: string; state: SeedTwoFactorState } {
  // Hashed, so that neither the name order nor the 2FA state follows the email number or each other:
  // a Users page sorted by name then shows every state, as real data would.
  const h = hash32(n);
  const first = FIRST_NAMES[h % FIRST_NAMES.length];
  const last = LAST_NAMES[Math.floor(h / FIRST_NAMES.length) % LAST_NAMES.length];
  const roll = hash32(h) % 20; // a quarter enrolled, a tenth required to enrol, the rest without
  const state = roll < 5 ? "on" : roll < 7 ? "required" : "off";
  return { name: `${first} ${last}`, email: `user${String(n).padStart(5, "0")}@${SEED_EMAIL_DOMAIN}`, state };
}

/** A 32-bit integer mix ("lowbias32", Chris Wellons): deterministic, evenly spread. */
function hash32(value: number): number {
  let x = value >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

export type SeedResult = { inserted: number; skipped: number };

/**
 * Inserts seeded users 1…`count` in batches of SEED_BATCH_SIZE, each batch in
 * one transaction; emails that already exist are skipped, so a second run
 * only adds what is missing. Every seeded user shares `passwordHash` (one
 * argon2id run instead of 100 000). Enrolled ones get an enabled TOTP
 * credential with their own random secret, encrypted as the app stores it.
 */
export async function seedUsers(
  db: Database,
  options: { count: number; passwordHash: string; onBatch?: (done: number, result: SeedResult) => void },
): Promise<SeedResult> {
  const result: SeedResult = { inserted: 0, skipped: 0 };
  for (let start = 1; start <= options.count; start += SEED_BATCH_SIZE) {
    const end = Math.min(options.count, start + SEED_BATCH_SIZE - 1);
    const inserted = await insertBatch(db, start, end, options.passwordHash);
    result.inserted += inserted;
    result.skipped += end - start + 1 - inserted;
    options.onBatch?.(end, result);
  }
  // Fresh statistics for the planner: PGlite runs no autovacuum, so nothing else would gather them.
  if (result.inserted > 0) await db.execute(sql`analyze ${users}, ${totpCredentials}`);
  return result;
}

async function insertBatch(db: Database, from: number, to: number, passwordHash: string): Promise<number> {
  const rows: (typeof users.$inferInsert)[] = [];
  const enrolled = new Set<string>();
  for (let n = from; n <= to; n++) {
    const { name, email, state } = seedUserAt(n);
    const id = randomUUID();
    if (state === "on") enrolled.add(id);
    rows.push({ id, name, email, passwordHash, twoFactorRequired: state === "required" });
  }
  return db.transaction(async (tx) => {
    const created = await tx
      .insert(users)
      .values(rows)
      .onConflictDoNothing({ target: users.email })
      .returning({ id: users.id });
    const credentials = created
      .filter((row) => enrolled.has(row.id))
      .map((row) => ({ userId: row.id, secretCiphertext: encryptSecret(newTotpSecret(), row.id), enabledAt: new Date() }));
    if (credentials.length > 0) await tx.insert(totpCredentials).values(credentials);
    return created.length;
  });
}

/** Seeding an instance without an administrator would hide the first-run setup link for good. */
export async function hasAdministrator(db: Database): Promise<boolean> {
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.role, "admin")).limit(1);
  return !!row;
}
