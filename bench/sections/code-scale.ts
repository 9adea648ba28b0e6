import postgres, { type Sql } from "postgres";
import type { Database } from "@/db";
import { hashPassword } from "@/lib/auth/password";
import { completeSignIn } from "@/lib/auth/second-step";
import { sha256Hex } from "@/lib/crypto";
import { retarget, type SignInTemplates } from "../lib/actions";
import { startApp, type AppServer } from "../lib/app-server";
import { BENCH_PASSWORD, PORTS } from "../lib/config";
import { createPgDatabase, openMigrated, type PgDatabase } from "../lib/database";
import { explainStatements, type Plan } from "../lib/explain";
import { median, type LoadResult } from "../lib/load";
import type { RunOptions, SectionResult } from "../lib/context";
import { backendPids, cpuSeconds } from "../lib/cpu";
import { seedTotpUsersAtScale } from "../lib/seed-at-scale";
import { hotp, timeStep } from "../lib/totp";
import { assertHealthy, codeStepLoad, freshChallenges, userPool, type Pool } from "./sign-in";

const SMALL = 10_000;
const LARGE = 1_000_000;
/**
 * Users signed in at each size: all of the small instance, one in 100 of the large, spread over its table.
 * The same number at both, so that only the table around them differs. Challenges are made anew before every
 * window, so 10 000 cover up to ~1 000 req/s (one code per user per 30-s step, the replay guard).
 */
const POOL = 10_000;

type Round = { small: Window; large: Window };
type Instance = { size: number; pg: PgDatabase; seedSeconds?: number; seedStages?: Record<string, number>; pool?: Pool; server?: AppServer; sql?: Sql };

/**
 * 2b. The code step at 10 000 and at 1 000 000 users: two databases, one server each, the same load as
 * figure 2 (codeStepLoad: a fresh challenge and a valid code per request, 8 connections), interleaved in
 * rounds (small, large; then large, small). The figure is the median of the per-round ratios of req/s
 * small ÷ large: 1.0 is a cost that does not grow with the users, 1.3 a code step 30 % slower at a million.
 * Then EXPLAIN ANALYZE of every statement a code step sends at 1 000 000, checked for sequential scans.
 */
export async function codeScale(templates: SignInTemplates, options: RunOptions): Promise<SectionResult> {
  const instances: Instance[] = [
    { size: SMALL, pg: await createPgDatabase("code_small") },
    { size: LARGE, pg: await createPgDatabase("code_large") },
  ];
  try {
    const hash = await hashPassword(BENCH_PASSWORD);
    for (const instance of instances) {
      await (await openMigrated({ url: instance.pg.url })).close();
      const { pool, seconds, stages } = await seedTotpUsersAtScale(instance.pg.url, instance.size, POOL, hash);
      // One connection: the statistics it flushes before each window are those of the scans it made.
      const sql = postgres(instance.pg.url, { max: 1, onnotice: () => {} });
      Object.assign(instance, { pool: userPool(pool), seedSeconds: seconds, seedStages: stages, sql });
      options.log(`code step at scale: seeded ${instance.size} users with 2FA in ${seconds.toFixed(1)} s (${JSON.stringify(stages)})`);
    }
    const [small, large] = instances;
    // The seeding's dirty pages written now, not by backends and the checkpointer during the first windows.
    await small.sql!`checkpoint`;
    ({ server: small.server } = await startApp(PORTS.codeSmall, { url: small.pg.url }));
    ({ server: large.server } = await startApp(PORTS.codeLarge, { url: large.pg.url }));
    // New servers, unlike figure 2's (which served the captures and the password step first): with only a 3-s
    // warm-up, req/s rose about threefold over the four rounds, at both sizes.
    for (const instance of instances) await window(instance, templates, { ...options, seconds: 3 * options.warmupSeconds });
    const rounds: Round[] = [];
    for (let round = 0; round < options.rounds; round++) {
      // Which size goes first alternates: a drift within the run (load, warm-up) then favours neither.
      const order = round % 2 ? [large, small] : [small, large];
      options.log(`code step at scale: round ${round + 1}/${options.rounds}: ${order.map((i) => `${i.size} users`).join(", then ")}`);
      const results = new Map<Instance, Window>();
      for (const instance of order) results.set(instance, await window(instance, templates, options));
      rounds.push({ small: results.get(small)!, large: results.get(large)! });
    }
    for (const instance of instances) await instance.server?.stop();
    options.log("code step at scale: EXPLAIN at 1 000 000 users");
    const plans = await explainCodeStep(large);
    return { figures: figures(rounds, plans, instances), details: { sizes: [SMALL, LARGE], pool: POOL, seedSeconds: instances.map((i) => i.seedSeconds), seedStages: instances.map((i) => i.seedStages), rounds, plans } };
  } finally {
    for (const instance of instances) {
      await instance.server?.stop();
      await instance.sql?.end();
      await instance.pg.drop();
    }
  }
}

/** A window's result with the CPU time each request cost the server process and the database's backends. */
type Window = LoadResult & { cpuMs: { server: number; postgres: number | null }; blocksPerRequest: { read: number; hit: number } };

/**
 * One timed window of the code step on one instance, its challenges made just before (untimed). CPU time per
 * request moves far less with the machine's other load than req/s does (profile.ts): it shows whether the
 * work itself grows with the users.
 */
async function window(instance: Instance, templates: SignInTemplates, options: RunOptions): Promise<Window> {
  const cursor = { challenges: await freshChallenges(instance.sql!, instance.pool!), next: 0 };
  // Its scans of the whole tables reported now: a backend that reported less than a second ago holds its
  // counts for up to 10 s, which would put them in the window (PostgreSQL 15's pgstat_report_stat).
  await instance.sql!`select pg_stat_force_next_flush()`;
  // The captured requests carry the main server's Origin; the app refuses a cross-origin step.
  const own = { ...templates, code: retarget(templates.code, instance.server!.origin) };
  const serverPid = instance.server!.serverPid();
  const backends = await backendPids(instance.sql!);
  const before = { server: cpuSeconds([serverPid]), postgres: cpuSeconds(backends), blocks: await blocks(instance.sql!) };
  const result = await codeStepLoad(instance.server!.origin, own, instance.pool!, cursor, options, false);
  // A connection the pool opened during the window counts from its start.
  const cpu = { server: cpuSeconds([serverPid]), postgres: cpuSeconds([...new Set([...backends, ...(await backendPids(instance.sql!))])]) };
  assertHealthy(`code step at ${instance.size} users`, result);
  // The app's backends' last second may be reported after this: a smear between windows, the same at both sizes.
  const after = await blocks(instance.sql!);
  const requests = result.ok + result.failed;
  return {
    ...result,
    cpuMs: { server: (1000 * (cpu.server - before.server)) / requests, postgres: backends.length ? (1000 * (cpu.postgres - before.postgres)) / requests : null },
    blocksPerRequest: { read: (after.read - before.blocks.read) / requests, hit: (after.hit - before.blocks.hit) / requests },
  };
}

/** Blocks this database's backends found in shared buffers (hit) or had to read from the kernel (read), so far. */
async function blocks(sql: Sql): Promise<{ read: number; hit: number }> {
  const [row] = await sql<{ read: string; hit: string }[]>`select blks_read as read, blks_hit as hit from pg_stat_database where datname = current_database()`;
  return { read: Number(row.read), hit: Number(row.hit) };
}

function figures(rounds: Round[], plans: Plan[], instances: Instance[]): SectionResult["figures"] {
  const ratios = rounds.map((r) => r.small.rps / r.large.rps);
  const scans = plans.flatMap((p) => p.seqScans);
  const rps = (side: "small" | "large") => rounds.map((r) => r[side].rps.toFixed(0)).join("/");
  const p99 = (side: "small" | "large") => median(rounds.map((r) => r[side].p99Ms));
  const postgres = rounds.map((r) => (r.large.cpuMs.postgres === null || r.small.cpuMs.postgres === null ? null : r.large.cpuMs.postgres / r.small.cpuMs.postgres));
  const reads = (side: "small" | "large") => rounds.map((r) => r[side].blocksPerRequest.read.toFixed(1)).join("/");
  const cpu = (side: "small" | "large", of: "server" | "postgres") => rounds.map((r) => r[side].cpuMs[of]?.toFixed(2) ?? "n/a").join("/");
  return [
    {
      section: 2.5,
      key: "codeStepScaleRatio",
      label: "2b. Code step req/s, 10k ÷ 1M users",
      value: median(ratios),
      unit: "×",
      target: { op: "<=", value: 1.2 },
      note: `median of ${rounds.length} rounds: ${ratios.map((r) => r.toFixed(3)).join(", ")}; ${rps("small")} req/s at 10k, ${rps("large")} at 1M; seeded in ${instances.map((i) => `${i.seedSeconds!.toFixed(1)} s`).join(" and ")}`,
    },
    { section: 2.5, key: "codeStepSmallRps", label: "   code step at 10k users", value: median(rounds.map((r) => r.small.rps)), unit: "req/s" },
    { section: 2.5, key: "codeStepLargeRps", label: "   code step at 1M users", value: median(rounds.map((r) => r.large.rps)), unit: "req/s" },
    { section: 2.5, key: "codeStepSmallP99Ms", label: "   code step p99 at 10k users", value: p99("small"), unit: "ms" },
    { section: 2.5, key: "codeStepLargeP99Ms", label: "   code step p99 at 1M users", value: p99("large"), unit: "ms" },
    {
      section: 2.5,
      key: "codeStepScalePostgresCpuRatio",
      label: "   PostgreSQL CPU per code step, 1M ÷ 10k",
      value: postgres.some((r) => r === null) ? null : median(postgres as number[]),
      unit: "×",
      note: `backends of each database, per request: ${cpu("small", "postgres")} ms at 10k, ${cpu("large", "postgres")} ms at 1M; server process ${cpu("small", "server")} ms and ${cpu("large", "server")} ms; blocks read from the kernel per request ${reads("small")} at 10k, ${reads("large")} at 1M`,
    },
    {
      section: 2.5,
      key: "codeStepSeqScanCount",
      label: "   sequential scans in the code step's EXPLAIN at 1M",
      value: scans.length,
      unit: "",
      target: { op: "<=", value: 0 },
      note: `${plans.length} statements, ${plans.map((p) => `${p.executionMs.toFixed(2)} ms`).join(" + ")}; ${scans.join("; ") || "no sequential scan"}`,
    },
  ];
}

/**
 * EXPLAIN ANALYZE of what a code step sends, captured from the app's own functions: what Auth.js's authorize()
 * awaits for a TOTP code (completeSignIn, whose one write statement also writes the session's row). Before the
 * plans, the captured sign-in's challenge is put back and its time step and session forgotten, so that EXPLAIN
 * ANALYZE signs that user in once more along the same path (the lookup, the reservation, the one write statement).
 */
async function explainCodeStep(instance: Instance): Promise<Plan[]> {
  const pool = instance.pool!;
  const sql = instance.sql!;
  const challenges = await freshChallenges(sql, pool);
  const context = { ip: "127.0.0.1", userAgent: "bench" };
  let runs = 0;
  let last: { token: string; userId: string; sid: string } | null = null;
  const signIn = async (db: Database) => {
    const challenge = challenges[runs++]; // explainStatements runs it twice: once to warm up, once captured
    const userId = pool.users[challenge.user].id;
    const code = hotp(pool.keys[challenge.user], timeStep());
    const result = await completeSignIn(db, { challenge: challenge.token, method: "totp", code }, context);
    if (!result.ok) throw new Error(`EXPLAIN's sign-in was refused: ${result.error}`);
    last = { token: challenge.token, userId, sid: result.sid };
  };
  const putBack = async () => {
    const { token, userId, sid } = last!;
    await sql`insert into sign_in_challenges (token_hash, user_id, purpose, expires_at) values (${sha256Hex(token)}, ${userId}, 'sign_in', now() + interval '5 minutes')`;
    await sql`update totp_credentials set last_used_step = null where user_id = ${userId}`;
    await sql`delete from sessions where sid = ${sid}`;
  };
  const plans = await explainStatements(instance.pg.url, signIn, putBack);
  return plans.map((p) => ({ ...p, view: "code step", size: instance.size }));
}
