import { readFileSync, readdirSync } from "node:fs";
import type { Sql } from "postgres";

/** User + system CPU seconds of these processes so far (/proc/<pid>/stat, clock ticks of 10 ms). */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended between the listing and the read
    }
  }
  return ticks / 100;
}

/** PostgreSQL's processes (postmaster, backends, WAL writer …): the database's share of the CPU. */
export function postgresPids(): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "postgres";
      } catch {
        return false;
      }
    });
}

/**
 * The backends serving one database (the app's pool, not the bench's own connection): its share of
 * PostgreSQL's CPU, apart from other databases' on the same server. Empty when PostgreSQL is not on this
 * machine (BENCH_PG_URL elsewhere): then /proc does not have them.
 */
export async function backendPids(sql: Sql): Promise<number[]> {
  const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
  return rows.map((r) => r.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "postgres";
    } catch {
      return false;
    }
  });
}
