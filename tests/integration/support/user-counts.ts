import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Database, Executor, Transaction } from "@/db";
import { securityKeys } from "@/db/schema";
import { rawRows } from "./fixtures";

export type Counts = { users: number; enrolled: number };

/** What `user_counts` must hold, counted from the rows: users, and users with an enabled app or a key (each once). */
export async function countedFromRows(db: Database): Promise<Counts> {
  const [row] = await rawRows<{ users: number | string; enrolled: number | string }>(
    db,
    sql`select (select count(*) from users) as users,
      (select count(*) from (select user_id from totp_credentials where enabled_at is not null union select user_id from security_keys) f) as enrolled`,
  );
  return { users: Number(row.users), enrolled: Number(row.enrolled) };
}

/**
 * Users whose enrolled_users row does not hold their number of factors (an
 * enabled app and their keys), or who have a row and no factor: 0 when the
 * triggers kept it. A lost update shows here before it changes a total.
 */
export async function miscountedUsers(db: Database): Promise<number> {
  const [row] = await rawRows<{ miscounted: number | string }>(
    db,
    sql`select count(*) as miscounted
      from (select user_id, count(*) as n from (select user_id from totp_credentials where enabled_at is not null union all select user_id from security_keys) f group by user_id) f
      full join enrolled_users e using (user_id)
      where f.n is distinct from e.factors`,
  );
  return Number(row.miscounted);
}

/**
 * Security key rows for `owners` in one INSERT (an owner listed twice gets two
 * keys), without WebAuthn: the counters' triggers see rows, not the path that wrote them.
 */
export async function insertKeys(db: Executor, owners: string[]): Promise<void> {
  await db.insert(securityKeys).values(
    owners.map((userId) => ({
      userId,
      credentialId: `test-${randomUUID()}`,
      publicKey: "test",
      deviceType: "multiDevice" as const,
      backedUp: true,
      userVerified: true,
      aaguid: "00000000-0000-0000-0000-000000000000",
      name: "Inserted key",
    })),
  );
}

/**
 * Runs `first` in a transaction left open after it, then `second` on another
 * connection (PostgreSQL only: on PGlite it would wait for ever), and says
 * whether `second` was still waiting 300 ms later — for a lock `first` holds —
 * before letting `first` commit and both finish.
 */
export async function secondWhileFirstOpen(db: Database, first: (tx: Transaction) => Promise<unknown>, second: () => Promise<unknown>): Promise<"waiting" | "done"> {
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let written = () => {};
  const firstWritten = new Promise<void>((resolve) => (written = resolve));
  const firstDone = db.transaction(async (tx) => {
    await first(tx);
    written();
    await held;
  });
  await Promise.race([firstWritten, firstDone]);
  const secondDone = second();
  const state = await Promise.race([secondDone.then(() => "done" as const), new Promise<"waiting">((resolve) => setTimeout(() => resolve("waiting"), 300))]);
  release();
  await Promise.all([firstDone, secondDone]);
  return state;
}
