/**
 * npm run bench [-- --quick] [-- --only=password,code,code1m,peer,browser,users,audit,start]
 *
 * Measures, side by side in one run on this machine, the ratios of
 * docs/PERFORMANCE.md, prints them as a table with their targets and writes
 * bench/results.json (a --quick or --only run writes results.quick.json /
 * results.partial.json instead, so the committed figures stay those of a full run).
 * Exits non-zero only when the harness itself fails, not when a target is missed
 * (CI checks that `--quick` runs; pass --strict to fail on a missed target too).
 * `peer` (Better Auth in bench/peer, installed and built on demand) and `code1m` (a
 * million users seeded, minutes) are left out of --quick unless named in --only, so
 * that CI never installs the one nor waits for the other; a full run always has both.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { BENCH_PASSWORD, BENCH_SECRETS, PORTS } from "./lib/config";
import { captureSignIn } from "./lib/actions";
import { startApp, type AppServer } from "./lib/app-server";
import { createPgDatabase, openMigrated, seedBenchUsers, PG_SERVER, type PgDatabase } from "./lib/database";
import type { RunOptions, SectionResult } from "./lib/context";
import { passes, table, type Figure } from "./lib/report";
import { signInOverHttp } from "./lib/sign-in";

const SECTIONS = ["password", "code", "code1m", "peer", "browser", "users", "audit", "start"] as const;
type Section = (typeof SECTIONS)[number];
/** Too slow or too heavy for CI's --quick: run only when --only names them, or in a full run. */
const NOT_QUICK: readonly Section[] = ["peer", "code1m"];

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { quick: { type: "boolean" }, only: { type: "string" }, strict: { type: "boolean" } } });
  const quick = !!values.quick;
  const only = values.only ? (values.only.split(",") as Section[]) : SECTIONS.filter((s) => !(quick && NOT_QUICK.includes(s)));
  const unknown = only.filter((s) => !SECTIONS.includes(s));
  if (unknown.length) throw new Error(`unknown section ${unknown.join(", ")}; sections: ${SECTIONS.join(", ")}`);
  // The bench seeds TOTP secrets with the app's lib/crypto: same key as the servers it starts.
  Object.assign(process.env, BENCH_SECRETS);
  delete process.env.DATABASE_URL;

  const options: RunOptions = {
    quick,
    seconds: quick ? 2 : 6,
    warmupSeconds: quick ? 1 : 3,
    rounds: quick ? 2 : 4,
    connections: 8,
    log: (message) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`),
  };
  const loadBefore = os.loadavg();
  const started = Date.now();
  options.log(`${quick ? "quick" : "full"} run: ${only.join(", ")}; load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`);
  // The same build `npm start` would serve: built now if missing or older than the sources.
  execFileSync(process.execPath, ["scripts/ensure-build.mjs"], { stdio: "inherit" });

  const results: SectionResult[] = [];
  const { passwordStep, codeStep, userPool } = await import("./sections/sign-in");
  const { codeScale } = await import("./sections/code-scale");
  const { peerComparison } = await import("./sections/peer");
  const { javascriptSize, lighthouseScores } = await import("./sections/browser");
  const { usersScale } = await import("./sections/users-scale");
  const { auditScale } = await import("./sections/audit-scale");
  const { startAndMemory } = await import("./sections/start");
  const { hashPassword } = await import("@/lib/auth/password");

  // Users of the load tests: enough that no user's code is used twice in one window
  // (the replay guard accepts one code per user per 30-s step), at ~3 000 req/s for the bare server.
  const poolSize = quick ? 10_000 : 40_000;
  const probe = (k: number) => poolSize + k; // users outside the pool, for the browser and captures
  let pg: PgDatabase | null = null;
  let server: AppServer | null = null;
  let sql: postgres.Sql | null = null;
  try {
    pg = await createPgDatabase("app");
    const hash = await hashPassword(BENCH_PASSWORD);
    options.log(`seeding ${poolSize} users with 2FA`);
    const handle = await openMigrated({ url: pg.url });
    const seeded = await seedBenchUsers(handle.db, poolSize + 10, hash);
    await handle.close();
    sql = postgres(pg.url, { max: 2, onnotice: () => {} });
    ({ server } = await startApp(PORTS.app, { url: pg.url }));
    const user = (n: number) => seeded[n - 1];
    options.log("capturing the sign-in requests React sends (Chromium)");
    const templates = await captureSignIn(server.origin, user(probe(1)));
    const pool = userPool(seeded.slice(0, poolSize));

    if (only.includes("password")) results.push(await passwordStep(server.origin, templates, pool, hash, options));
    if (only.includes("code")) results.push(await codeStep(server.origin, templates, pool, sql, pg.url, options));
    if (only.includes("peer")) results.push(await peerComparison(server.origin, templates, pool, sql, hash, options));
    if (only.includes("browser")) {
      const session = await signInOverHttp(server.origin, templates, user(probe(2)));
      results.push(await javascriptSize(server.origin, session, options));
      results.push(await lighthouseScores(server.origin, session, options));
    }
    await server.stop();
    server = null;
    if (only.includes("code1m")) results.push(await codeScale(templates, options));
    if (only.includes("users")) results.push(await usersScale(templates, { ...options, largeUsers: 100_000 }));
    if (only.includes("audit")) results.push(await auditScale(options));
    if (only.includes("start")) results.push(await startAndMemory(templates, options));
  } finally {
    await server?.stop();
    await sql?.end();
    await pg?.drop();
  }

  const figures = orderFigures(results.flatMap((r) => r.figures));
  const loadAfter = os.loadavg();
  const report = {
    date: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    sections: only,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), loadavgBefore: loadBefore, loadavgAfter: loadAfter },
    versions: await versions(),
    method: { sliceSeconds: options.seconds, rounds: options.rounds, warmupSeconds: options.warmupSeconds, connections: options.connections, userPool: poolSize },
    ...Object.fromEntries(figures.map((f) => [f.key, f.value === null ? null : Number(f.value.toFixed(f.unit === "×" ? 3 : 1))])),
    figures: figures.map((f) => ({ ...f, pass: passes(f) })),
    details: Object.fromEntries(results.map((r) => [r.figures[0]?.key ?? "?", r.details])),
  };
  console.log(`\n${table(figures)}\n`);
  for (const f of figures) if (f.note) console.log(`  ${f.key}: ${f.note}`);
  console.log(`\nload average ${loadBefore.map((l) => l.toFixed(2)).join(" ")} before, ${loadAfter.map((l) => l.toFixed(2)).join(" ")} after; ${os.cpus().length} CPUs`);
  const out = path.join("bench", quick ? "results.quick.json" : only.length < SECTIONS.length ? "results.partial.json" : "results.json");
  writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
  console.log(`written to ${out}`);
  const failed = figures.filter((f) => passes(f) === false);
  return values.strict && failed.length ? 1 : 0;
}

/** Section results arrive in run order; the table follows the numbering (stable within a section). */
function orderFigures(figures: Figure[]): Figure[] {
  // Within a section the numbered headline comes first, then the rest in run order.
  const headline = (f: Figure) => (/^\d\./.test(f.label) ? 0 : 1);
  return figures
    .map((f, i) => ({ f, i }))
    .sort((a, b) => a.f.section - b.f.section || headline(a.f) - headline(b.f) || a.i - b.i)
    .map(({ f }) => f);
}

async function versions(): Promise<Record<string, string>> {
  const pkg = (name: string) => (JSON.parse(readFileSync(path.join("node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  const admin = postgres(PG_SERVER, { max: 1, onnotice: () => {} });
  const [{ server_version: postgresVersion }] = await admin<{ server_version: string }[]>`show server_version`;
  await admin.end();
  let chromium = "";
  try {
    chromium = execFileSync("/usr/bin/chromium", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    chromium = "unavailable";
  }
  return {
    node: process.version,
    next: pkg("next"),
    react: pkg("react"),
    "next-auth": pkg("next-auth"),
    "drizzle-orm": pkg("drizzle-orm"),
    postgres: pkg("postgres"),
    "@electric-sql/pglite": pkg("@electric-sql/pglite"),
    "@node-rs/argon2": pkg("@node-rs/argon2"),
    undici: pkg("undici"),
    lighthouse: pkg("lighthouse"),
    postgresql: postgresVersion,
    chromium,
  };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error("[bench] failed:", error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
