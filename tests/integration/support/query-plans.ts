import { sql } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { schema, type Database } from "@/db";
import type { TestDatabase } from "./databases";
import { rawRows } from "./fixtures";

export type CapturedQuery = { query: string; params: unknown[] };

/** Runs `work` on a second drizzle instance over the same connection that records every query it sends. */
export async function captureQueries(t: TestDatabase, work: (db: Database) => Promise<unknown>): Promise<CapturedQuery[]> {
  const captured: CapturedQuery[] = [];
  const logger = { logQuery: (query: string, params: unknown[]) => void captured.push({ query, params }) };
  const client = (t.db as unknown as { $client: never }).$client;
  const db = t.handle.driver === "pglite" ? drizzlePglite(client, { schema, logger }) : drizzlePostgres(client, { schema, logger });
  await work(db as unknown as Database);
  return captured;
}

/**
 * PostgreSQL's plan for a captured query with some plan types switched off
 * (`enable_seqscan` …): on a test-sized table the planner rightly prefers
 * reading everything, so this shows which index would serve the query at
 * scale — and a plan still reading every row shows that none can.
 */
export async function planWithout(t: TestDatabase, captured: CapturedQuery, settingsOff: string[]): Promise<string> {
  return t.db.transaction(async (tx) => {
    for (const setting of settingsOff) await tx.execute(sql.raw(`set local ${setting} = off`));
    const rows = await rawRows<{ "QUERY PLAN": string }>(tx as unknown as Database, sql.raw(`explain ${inline(captured)}`));
    return rows.map((row) => row["QUERY PLAN"]).join("\n");
  });
}

/** The query with its parameters written in as literals (EXPLAIN takes no bound parameters here). */
function inline({ query, params }: CapturedQuery): string {
  return query.replace(/\$(\d+)/g, (_, n: string) => {
    const value = params[Number(n) - 1];
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    return `'${String(value).replace(/'/g, "''")}'`;
  });
}
