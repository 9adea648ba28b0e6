import { createHash, randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import path from "node:path";
import type { Sql } from "postgres";
import { CODE, EMAIL, PASSWORD, fill, setCookieValue, type SignInTemplates } from "../lib/actions";
import { BENCH_PASSWORD, BENCH_SECRETS, PORTS } from "../lib/config";
import type { BenchUser } from "../lib/database";
import { median, runLoad, type LoadResult } from "../lib/load";
import type { RunOptions, SectionResult } from "../lib/context";
import { SESSION_COOKIE } from "../lib/sign-in";
import { base32Decode, hotp, timeStep } from "../lib/totp";

export type Pool = { users: BenchUser[]; keys: Buffer[] };

export function userPool(users: BenchUser[]): Pool {
  return { users, keys: users.map((u) => base32Decode(u.secret)) };
}

const TSX = path.resolve("node_modules/.bin/tsx");

/** Runs a bench script as its own process and returns the JSON it prints last. */
async function runScript<T>(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const child = spawn(TSX, [script, ...args], { env, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as T;
}

/**
 * 1. Password step vs the hash, interleaved: `rounds` × (bare argon2id script
 * for a slice, then the app's password step for a slice). The figure is the
 * median of the per-round ratios, so that the load other work puts on the
 * shared machine, which drifts over a minute, hits both sides of each ratio.
 */
export async function passwordStep(origin: string, templates: SignInTemplates, pool: Pool, hash: string, options: RunOptions): Promise<SectionResult> {
  const cursor = { next: 0 };
  const rounds: { bare: number; app: LoadResult }[] = [];
  for (let round = 0; round < options.rounds; round++) {
    options.log(`password step: round ${round + 1}/${options.rounds}: bare argon2id, then the app`);
    const bare = await runScript<{ perSecond: number }>("bench/argon2-bare.ts", [hash, BENCH_PASSWORD, String(options.seconds), String(options.connections)]);
    const app = await passwordStepLoad(origin, templates, pool, cursor, options, round === 0);
    assertHealthy("password step", app);
    rounds.push({ bare: bare.perSecond, app });
  }
  const ratios = rounds.map((r) => r.app.rps / r.bare);
  return {
    figures: [
      {
        section: 1,
        key: "passwordStepRatio",
        label: "1. Password step ÷ bare argon2id",
        value: median(ratios),
        unit: "×",
        target: { op: ">=", value: 0.9 },
        note: `median of ${rounds.length} rounds: ${ratios.map((r) => r.toFixed(2)).join(", ")}; app ${rounds.map((r) => r.app.rps.toFixed(0)).join("/")} sign-ins/s, bare ${rounds.map((r) => r.bare.toFixed(0)).join("/")} verifications/s`,
      },
      { section: 1, key: "passwordStepRps", label: "   password step", value: median(rounds.map((r) => r.app.rps)), unit: "req/s" },
      { section: 1, key: "bareArgon2Rps", label: "   bare argon2id verify", value: median(rounds.map((r) => r.bare)), unit: "/s" },
      { section: 1, key: "passwordStepP99Ms", label: "   password step p99", value: median(rounds.map((r) => r.app.p99Ms)), unit: "ms" },
    ],
    details: { rounds },
  };
}

/** The app's password step for a window: many users, in turn, each request a real sign-in of another account. */
export function passwordStepLoad(origin: string, templates: SignInTemplates, pool: Pool, cursor: { next: number }, options: RunOptions, warmup: boolean): Promise<LoadResult> {
  return runLoad({
    origin,
    connections: options.connections,
    seconds: options.seconds,
    warmupSeconds: warmup ? options.warmupSeconds : 0,
    next: () => fill(templates.password, { [EMAIL]: pool.users[cursor.next++ % pool.users.length].email, [PASSWORD]: BENCH_PASSWORD }),
    ok: (status, headers) => status === 200 && setCookieValue(headers["set-cookie"], "signin-challenge") !== null,
  });
}

type Challenge = { token: string; user: number };

/**
 * Fresh challenges for every pool user, written straight into the table as
 * lib/auth/challenge.ts does (only the SHA-256 of the token), so that the
 * timed window measures the code step alone. Also forgets the last used time
 * step and failure counters, so that each user's code is accepted once more.
 */
export async function freshChallenges(sql: Sql, pool: Pool): Promise<Challenge[]> {
  await sql`delete from sign_in_challenges`;
  // Only the rows a sign-in touched: at 1 000 000 users (code-scale.ts) an unconditional update rewrote every row.
  await sql`update totp_credentials set last_used_step = null where last_used_step is not null`;
  await sql`update users set second_factor_failures = 0, second_factor_lockouts = 0, second_factor_locked_until = null where second_factor_failures > 0 or second_factor_locked_until is not null`;
  const challenges = pool.users.map((_, user) => ({ token: randomBytes(32).toString("base64url"), user }));
  const hashes = challenges.map((c) => createHash("sha256").update(c.token).digest("hex"));
  const ids = challenges.map((c) => pool.users[c.user].id);
  await sql`
    insert into sign_in_challenges (token_hash, user_id, purpose, expires_at)
    select h, u, 'sign_in', now() + interval '5 minutes' from unnest(${hashes}::text[], ${ids}::uuid[]) as t(h, u)`;
  await sql`analyze sign_in_challenges`;
  return challenges;
}

/** Hands out each challenge once, across every window that draws from it. */
export type ChallengeCursor = { challenges: Challenge[]; next: number };

export function codeStepLoad(origin: string, templates: SignInTemplates, pool: Pool, cursor: ChallengeCursor, options: RunOptions, warmup = true): Promise<LoadResult> {
  return runLoad({
    origin,
    connections: options.connections,
    seconds: options.seconds,
    warmupSeconds: warmup ? options.warmupSeconds : 0,
    // Each request: its own challenge (cookie) and a code of its user valid right now. One code per user per run.
    next: () => {
      const challenge = cursor.challenges[cursor.next++];
      if (!challenge) return null;
      const code = hotp(pool.keys[challenge.user], timeStep());
      return fill(templates.code, { [CODE]: code }, `signin-challenge=${challenge.token}`);
    },
    // Signed in: the answer sets the session cookie (the JSON says where to go next).
    ok: (status, headers) => status === 200 && setCookieValue(headers["set-cookie"], SESSION_COOKIE) !== null,
  });
}

/**
 * 2. Code step vs the framework floor, interleaved like the password step:
 * `rounds` × (no-op route /api/health/live, then the code step); then the
 * bare server for one window.
 */
export async function codeStep(origin: string, templates: SignInTemplates, pool: Pool, sql: Sql, databaseUrl: string, options: RunOptions): Promise<SectionResult> {
  const cursor: ChallengeCursor = { challenges: await freshChallenges(sql, pool), next: 0 };
  const rounds: { noop: LoadResult; app: LoadResult }[] = [];
  for (let round = 0; round < options.rounds; round++) {
    options.log(`code step: round ${round + 1}/${options.rounds}: no-op route, then the code step`);
    const noop = await runLoad({
      origin,
      connections: options.connections,
      seconds: options.seconds,
      warmupSeconds: round === 0 ? options.warmupSeconds : 0,
      next: () => ({ method: "GET", path: "/api/health/live" }),
      ok: (status) => status === 204,
    });
    const app = await codeStepLoad(origin, templates, pool, cursor, options, round === 0);
    assertHealthy("no-op route", noop);
    assertHealthy("code step", app);
    rounds.push({ noop, app });
  }
  options.log("code step: bare node:http + postgres.js server");
  const bare = await bareCodeStep(templates, pool, sql, databaseUrl, options);
  assertHealthy("bare code step", bare);
  const ratios = rounds.map((r) => r.app.rps / r.noop.rps);
  const p99Ratios = rounds.map((r) => r.app.p99Ms / r.noop.p99Ms);
  const appRps = median(rounds.map((r) => r.app.rps));
  const exhausted = rounds.some((r) => r.app.exhausted) || bare.exhausted ? " (user pool ran out: window cut short)" : "";
  return {
    figures: [
      {
        section: 2,
        key: "codeStepRatio",
        label: "2. Code step ÷ no-op route",
        value: median(ratios),
        unit: "×",
        target: { op: ">=", value: 0.5 },
        note: `median of ${rounds.length} rounds: ${ratios.map((r) => r.toFixed(3)).join(", ")}; code step ${rounds.map((r) => r.app.rps.toFixed(0)).join("/")} req/s, no-op ${rounds.map((r) => r.noop.rps.toFixed(0)).join("/")} req/s${exhausted}`,
      },
      {
        section: 2,
        key: "codeStepP99Ratio",
        label: "   code step p99 ÷ no-op p99",
        value: median(p99Ratios),
        unit: "×",
        target: { op: "<=", value: 2 },
        note: `p99 code step ${rounds.map((r) => r.app.p99Ms.toFixed(0)).join("/")} ms, no-op ${rounds.map((r) => r.noop.p99Ms.toFixed(1)).join("/")} ms`,
      },
      { section: 2, key: "codeStepRps", label: "   code step", value: appRps, unit: "req/s" },
      { section: 2, key: "noopRps", label: "   no-op route", value: median(rounds.map((r) => r.noop.rps)), unit: "req/s" },
      { section: 2, key: "bareCodeStepRps", label: "   bare code-step server", value: bare.rps, unit: "req/s" },
      { section: 2, key: "codeStepVsBareRatio", label: "   code step ÷ bare server", value: appRps / bare.rps, unit: "×" },
    ],
    details: { rounds, bare },
  };
}

async function bareCodeStep(templates: SignInTemplates, pool: Pool, sql: Sql, databaseUrl: string, options: RunOptions): Promise<LoadResult> {
  const bare = await startBareServer(databaseUrl);
  try {
    return await codeStepLoad(bare.origin, templates, pool, { challenges: await freshChallenges(sql, pool), next: 0 }, options);
  } finally {
    await bare.stop();
  }
}

/** bench/bare-code-step-server.ts on its port; `pid` is the Node process that serves (tsx runs it in a child). */
export async function startBareServer(databaseUrl: string, nodeArgs: string[] = []): Promise<{ origin: string; pid: number; stop(): Promise<void> }> {
  const env = { ...process.env, ...BENCH_SECRETS, DATABASE_URL: databaseUrl, PORT: String(PORTS.bare), NODE_OPTIONS: nodeArgs.join(" ") };
  const child = spawn(TSX, ["bench/bare-code-step-server.ts"], { env, stdio: ["ignore", "pipe", "inherit"], detached: true });
  const stop = async () => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-child.pid!, "SIGTERM");
    await exited;
  };
  try {
    const pid = await new Promise<number>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        const listening = /listening on \d+, pid (\d+)/.exec(chunk.toString());
        if (listening) resolve(Number(listening[1]));
      });
      child.once("exit", (code) => reject(new Error(`bare server exited with ${code}`)));
    });
    return { origin: `http://127.0.0.1:${PORTS.bare}`, pid, stop };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

/** A load test where most requests failed measured the wrong thing: stop rather than print it. */
export function assertHealthy(name: string, result: LoadResult): void {
  if (result.ok === 0 || result.failed > result.ok * 0.01) {
    throw new Error(`${name}: ${result.ok} ok, ${result.failed} failed (${JSON.stringify(result.statuses)})`);
  }
}
