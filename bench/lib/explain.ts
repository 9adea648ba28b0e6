import postgres from "postgres";
import { drizzle } from "drizzle-orm/postgres-js";
import * as schema from "@/db/schema";
import type { Database } from "@/db";

export type Plan = { view: string; size: number; statement: string; seqScans: string[]; executionMs: number };

type PlanNode = { "Node Type": string; "Relation Name"?: string; Plans?: PlanNode[] };

/**
 * Runs `run` once against the database at `url`, records every statement it
 * sends, and returns EXPLAIN ANALYZE of each with the tables it reads by
 * sequential scan: the statements a page sends are whatever the app's query
 * functions build, so they are captured rather than written out again here.
 * `beforeExplain` puts back what the captured run used up (a sign-in's
 * challenge, say), so that EXPLAIN ANALYZE of its writes takes the same path.
 */
export async function explainStatements(
  url: string,
  run: (db: Database) => Promise<unknown>,
  beforeExplain?: () => Promise<void>,
): Promise<Omit<Plan, "view" | "size">[]> {
  const captured: { query: string; params: unknown[] }[] = [];
  let capturing = false;
  const client = postgres(url, {
    max: 2,
    onnotice: () => {},
    debug: (_connection, query, params) => capturing && captured.push({ query, params: params as unknown[] }),
  });
  try {
    const db = drizzle(client, { schema }) as unknown as Database;
    // Once uncaptured first: a new connection's own catalogue queries (postgres.js reads pg_type) are not the app's.
    await run(db);
    capturing = true;
    await run(db);
    capturing = false;
    await beforeExplain?.();
    const plans = [];
    for (const statement of captured) {
      const [row] = await client.unsafe(`explain (analyze, format json) ${statement.query}`, statement.params as never[]);
      const plan = (row as Record<string, { Plan: PlanNode; "Execution Time": number }[]>)["QUERY PLAN"][0];
      plans.push({ statement: statement.query, seqScans: seqScans(plan.Plan), executionMs: plan["Execution Time"] });
    }
    return plans;
  } finally {
    await client.end();
  }
}

/**
 * Tables of one row, whatever the number of users (the counters, the instance settings): reading
 * them whole is the cheapest plan and costs the same at any size, so it is not the full scan the
 * figures are about. PostgreSQL picks a Seq Scan for them as soon as they have been analysed.
 */
const ONE_ROW_TABLES = new Set(["user_counts", "instance_settings"]);

/**
 * The tables read by a sequential scan that is not stopped by a LIMIT right above it. A Seq Scan
 * under a Limit (through nothing but a Subquery Scan) reads only as many rows as the limit, at
 * any size — the capped counts' `select 1 … limit n` — so it is not a scan of the whole table.
 */
function seqScans(node: PlanNode, underLimit = false): string[] {
  const type = node["Node Type"];
  const relation = node["Relation Name"] ?? "?";
  const own = type === "Seq Scan" && !underLimit && !ONE_ROW_TABLES.has(relation) ? [relation] : [];
  const passesLimit = type === "Limit" || (underLimit && type === "Subquery Scan");
  return [...own, ...(node.Plans ?? []).flatMap((child) => seqScans(child, passesLimit))];
}
