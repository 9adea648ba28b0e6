/**
 * Evidence for docs/PERFORMANCE.md: a CPU profile of the app server under one
 * of the bench loads, summarised by where the time went.
 *   npm run bench:profile -- code|password|noop [seconds]
 * Writes bench/profiles/<load>-*.cpuprofile (open it in Chrome DevTools) and prints
 * self time by package and the top functions.
 */
import { readFileSync, readdirSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import postgres from "postgres";
import { BENCH_PASSWORD, BENCH_SECRETS, PORTS } from "./lib/config";
import { EMAIL, PASSWORD, captureSignIn, fill } from "./lib/actions";
import { startApp } from "./lib/app-server";
import { createPgDatabase, openMigrated, seedBenchUsers } from "./lib/database";
import { runLoad, type LoadResult } from "./lib/load";
import type { RunOptions } from "./lib/context";

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] };

async function main(): Promise<void> {
  const [load = "code", secondsArg = "10"] = process.argv.slice(2);
  Object.assign(process.env, BENCH_SECRETS);
  delete process.env.DATABASE_URL;
  const { codeStepLoad, freshChallenges, userPool } = await import("./sections/sign-in");
  const { hashPassword } = await import("@/lib/auth/password");
  const options: RunOptions = { quick: false, seconds: Number(secondsArg), warmupSeconds: 2, rounds: 1, connections: 8, log: console.log };
  const dir = path.resolve("bench/profiles", load);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const pg = await createPgDatabase("profile");
  const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  try {
    const handle = await openMigrated({ url: pg.url });
    const users = await seedBenchUsers(handle.db, 20_001, await hashPassword(BENCH_PASSWORD));
    await handle.close();
    const { server } = await startApp(PORTS.app, { url: pg.url }, { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
    let result: LoadResult;
    try {
      const templates = await captureSignIn(server.origin, users[20_000]);
      const pool = userPool(users.slice(0, 20_000));
      let i = 0;
      if (load === "code") result = await codeStepLoad(server.origin, templates, pool, { challenges: await freshChallenges(sql, pool), next: 0 }, options);
      else if (load === "password")
        result = await runLoad({
          origin: server.origin,
          connections: 8,
          seconds: options.seconds,
          warmupSeconds: 2,
          next: () => fill(templates.password, { [EMAIL]: pool.users[i++ % pool.users.length].email, [PASSWORD]: BENCH_PASSWORD }),
          ok: (status) => status === 200,
        });
      else result = await runLoad({ origin: server.origin, connections: 8, seconds: options.seconds, next: () => ({ method: "GET", path: "/api/health/live" }), ok: (s) => s === 204 });
    } finally {
      await server.stop();
    }
    console.log(`${load}: ${result.rps.toFixed(1)} req/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms`);
    const file = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).map((f) => path.join(dir, f)).sort().at(-1);
    if (!file) throw new Error("no profile written");
    summarise(JSON.parse(readFileSync(file, "utf8")) as Profile, file);
  } finally {
    await sql.end();
    await pg.drop();
  }
}

/** Which package (or part of the app) a frame belongs to. */
function owner(url: string, name: string): string {
  if (!url) return name.startsWith("(") ? name : "(native)";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) {
    const pkg = modules[1];
    if (pkg === "next") {
      const part = /next\/dist\/(compiled\/[^/]+|server\/[^/]+|[^/]+)/.exec(url)?.[1] ?? "";
      return `next/${part}`;
    }
    return pkg;
  }
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  if (url.includes("/.next/server/chunks")) return "app chunks (.next/server)";
  if (url.includes("/.next/")) return ".next (other)";
  return url;
}

function summarise(profile: Profile, file: string): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id)!;
    const who = owner(callFrame.url, callFrame.functionName);
    groups.set(who, (groups.get(who) ?? 0) + us);
    const fn = `${callFrame.functionName || "(anonymous)"} ${who}:${callFrame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  // Inclusive: a sample counts for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { callFrame } = byId.get(at)!;
      if (!callFrame.functionName || callFrame.functionName.length < 3) continue; // minified names say nothing
      seen.add(`${callFrame.functionName} ${owner(callFrame.url, callFrame.functionName)}:${callFrame.lineNumber + 1}`);
    }
    for (const key of seen) inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`).join("\n");
  console.log(`\n${file}: ${(total / 1e6).toFixed(1)} s sampled\nself time by owner:\n${top(groups, 25)}\n\ntop functions (self):\n${top(functions, 30)}\n\ntop named functions (inclusive):\n${top(inclusive, 60)}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
