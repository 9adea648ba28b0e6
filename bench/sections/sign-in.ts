import { createHash, randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import path from "node:path";
import type { Sql } from "postgres";
import { CODE, EMAIL, PASSWORD, fill, setCookieValue, type SignInTemplates } from "../lib/actions";
import { BENCH_PASSWORD, BENCH_SECRETS, PORTS } from "../lib/config";
import type { BenchUser } from "../lib/database";
import { runLoad, type LoadResult } from "../lib/load";
import type { RunOptions, SectionResult } from "../lib/context";
import { base32Decode, hotp, timeStep } from "../lib/totp";

type Pool = { users: BenchUser[]; keys: Buffer[] };

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
 * 1. Password step vs the hash: the bare argon2id script, then the app's
 * password step, then the bare script again (A-B-A, so that a change of load on
 * the shared machine during the run shows up instead of skewing the ratio).
 */
export async function passwordStep(origin: string, templates: SignInTemplates, pool: Pool, hash: string, options: RunOptions): Promise<SectionResult> {
  const bare = () =>
    runScript<{ perSecond: number }>("bench/argon2-bare.ts", [hash, BENCH_PASSWORD, String(options.seconds), String(options.connections)]);
  options.log("password step: bare argon2id (1/2)");
  const before = await bare();
  options.log("password step: the app");
  let i = 0;
  const app = await runLoad({
    origin,
    connections: options.connections,
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds,
    // Many users, in turn: each request is a real sign-in of another account.
    next: () => fill(templates.password, { [EMAIL]: pool.users[i++ % pool.users.length].email, [PASSWORD]: BENCH_PASSWORD }),
    ok: (status, headers) => status === 200 && setCookieValue(headers["set-cookie"], "signin-challenge") !== null,
  });
  options.log("password step: bare argon2id (2/2)");
  const after = await bare();
  const bareRate = (before.perSecond + after.perSecond) / 2;
  assertHealthy("password step", app);
  return {
    figures: [
      {
        section: 1, key: "passwordStepRatio",
        label: "1. Password step ÷ bare argon2id",
        value: app.rps / bareRate,
        unit: "×",
        target: { op: ">=", value: 0.9 },
        note: `${app.rps.toFixed(1)} sign-ins/s vs ${bareRate.toFixed(1)} verifications/s (${before.perSecond.toFixed(1)} before, ${after.perSecond.toFixed(1)} after)`,
      },
      { section: 1, key: "passwordStepRps", label: "   password step", value: app.rps, unit: "req/s" },
      { section: 1, key: "bareArgon2Rps", label: "   bare argon2id verify", value: bareRate, unit: "/s" },
      { section: 1, key: "passwordStepP99Ms", label: "   password step p99", value: app.p99Ms, unit: "ms" },
    ],
    details: { app, bareBefore: before, bareAfter: after },
  };
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
  await sql`update totp_credentials set last_used_step = null`;
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

export function codeStepLoad(origin: string, templates: SignInTemplates, pool: Pool, challenges: Challenge[], options: RunOptions): Promise<LoadResult> {
  let i = 0;
  return runLoad({
    origin,
    connections: options.connections,
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds,
    // Each request: its own challenge (cookie) and a code of its user valid right now. One code per user per run.
    next: () => {
      const challenge = challenges[i++];
      if (!challenge) return null;
      const code = hotp(pool.keys[challenge.user], timeStep());
      return fill(templates.code, { [CODE]: code }, `signin-challenge=${challenge.token}`);
    },
    ok: (status, headers) => status === 200 && typeof headers["x-action-redirect"] === "string",
  });
}

/**
 * 2. Code step vs the framework floor, A-B-A again: the no-op route
 * (/api/health/live), the code step, the no-op route; then the bare server.
 */
export async function codeStep(origin: string, templates: SignInTemplates, pool: Pool, sql: Sql, databaseUrl: string, options: RunOptions): Promise<SectionResult> {
  const noop = () =>
    runLoad({
      origin,
      connections: options.connections,
      seconds: options.seconds,
      warmupSeconds: options.warmupSeconds,
      next: () => ({ method: "GET", path: "/api/health/live" }),
      ok: (status) => status === 204,
    });
  options.log("code step: no-op route (1/2)");
  const noopBefore = await noop();
  options.log("code step: the app");
  const app = await codeStepLoad(origin, templates, pool, await freshChallenges(sql, pool), options);
  options.log("code step: no-op route (2/2)");
  const noopAfter = await noop();
  options.log("code step: bare node:http + postgres.js server");
  const bare = await bareCodeStep(templates, pool, sql, databaseUrl, options);
  assertHealthy("code step", app);
  assertHealthy("no-op route", noopBefore);
  assertHealthy("bare code step", bare);
  const floorRps = (noopBefore.rps + noopAfter.rps) / 2;
  const floorP99 = (noopBefore.p99Ms + noopAfter.p99Ms) / 2;
  const exhausted = app.exhausted || bare.exhausted ? " (user pool ran out: window cut short)" : "";
  return {
    figures: [
      {
        section: 2, key: "codeStepRatio",
        label: "2. Code step ÷ no-op route",
        value: app.rps / floorRps,
        unit: "×",
        target: { op: ">=", value: 0.5 },
        note: `${app.rps.toFixed(0)} vs ${floorRps.toFixed(0)} req/s (no-op ${noopBefore.rps.toFixed(0)} before, ${noopAfter.rps.toFixed(0)} after)${exhausted}`,
      },
      {
        section: 2, key: "codeStepP99Ratio",
        label: "   code step p99 ÷ no-op p99",
        value: app.p99Ms / floorP99,
        unit: "×",
        target: { op: "<=", value: 2 },
        note: `${app.p99Ms.toFixed(1)} ms vs ${floorP99.toFixed(1)} ms`,
      },
      { section: 2, key: "codeStepRps", label: "   code step", value: app.rps, unit: "req/s" },
      { section: 2, key: "noopRps", label: "   no-op route", value: floorRps, unit: "req/s" },
      { section: 2, key: "bareCodeStepRps", label: "   bare code-step server", value: bare.rps, unit: "req/s" },
      { section: 2, key: "codeStepVsBareRatio", label: "   code step ÷ bare server", value: app.rps / bare.rps, unit: "×" },
    ],
    details: { app, noopBefore, noopAfter, bare },
  };
}

async function bareCodeStep(templates: SignInTemplates, pool: Pool, sql: Sql, databaseUrl: string, options: RunOptions): Promise<LoadResult> {
  const env = { ...process.env, ...BENCH_SECRETS, DATABASE_URL: databaseUrl, PORT: String(PORTS.bare) };
  const child = spawn(TSX, ["bench/bare-code-step-server.ts"], { env, stdio: ["ignore", "pipe", "inherit"], detached: true });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("listening") && resolve());
      child.once("exit", (code) => reject(new Error(`bare server exited with ${code}`)));
    });
    return await codeStepLoad(`http://127.0.0.1:${PORTS.bare}`, templates, pool, await freshChallenges(sql, pool), options);
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-child.pid!, "SIGTERM");
    await exited;
  }
}

/** A load test where most requests failed measured the wrong thing: stop rather than print it. */
function assertHealthy(name: string, result: LoadResult): void {
  if (result.ok === 0 || result.failed > result.ok * 0.01) {
    throw new Error(`${name}: ${result.ok} ok, ${result.failed} failed (${JSON.stringify(result.statuses)})`);
  }
}
