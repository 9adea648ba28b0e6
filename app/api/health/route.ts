import { sql } from "drizzle-orm";
import { getDb } from "@/lib/db";

export const dynamic = "force-dynamic";

/** Longer than any healthy answer; short enough for a load balancer's probe (they wait 2–10 s). */
const DATABASE_TIMEOUT_MS = 2_000;

/**
 * Readiness for load balancers and uptime checks: 200 when this instance can
 * reach its database, 503 when it cannot. Public on purpose, so it says
 * nothing more than that (no error text, no versions, no host names).
 * `/api/health/live` is the liveness probe that does not touch the database.
 */
export async function GET(): Promise<Response> {
  const reachable = await databaseReachable();
  return Response.json(
    { status: reachable ? "ok" : "unavailable", database: reachable ? "reachable" : "unreachable" },
    { status: reachable ? 200 : 503, headers: { "cache-control": "no-store" } },
  );
}

async function databaseReachable(): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), DATABASE_TIMEOUT_MS)));
  const probe = (async () => {
    await (await getDb()).execute(sql`select 1`);
    return true;
  })().catch(() => false);
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
