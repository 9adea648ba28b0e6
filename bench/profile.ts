/**
 * Evidence for docs/PERFORMANCE.md: a CPU profile of the app server under one
 * of the bench loads, summarised by where the time went.
 *   npm run bench:profile -- code|password|noop|bare [seconds] [--cpu]
 * Writes bench/profiles/<load>-*.cpuprofile (open it in Chrome DevTools) and prints
 * self time by package and the top functions, each frame traced back through the
 * build's source maps to the package or app file it came from (the build is minified).
 * Always prints the CPU time per request of the server process and of PostgreSQL's
 * processes over the measured window: on a shared machine that moves far less with
 * the background load than requests per second do, so it is the figure to compare
 * one change by. `bare` is the code step on bench/bare-code-step-server.ts (the same work without the
 * app). `--cpu` leaves the profiler out (it costs ~30 % of the server's CPU).
 */
import { existsSync, readFileSync, readdirSync, mkdirSync, rmSync } from "node:fs";
import { SourceMap } from "node:module";
import path from "node:path";
import postgres from "postgres";
import { BENCH_PASSWORD, BENCH_SECRETS, PORTS } from "./lib/config";
import { EMAIL, PASSWORD, captureSignIn, fill } from "./lib/actions";
import { startApp } from "./lib/app-server";
import { createPgDatabase, openMigrated, seedBenchUsers } from "./lib/database";
import { runLoad, type LoadResult } from "./lib/load";
import type { RunOptions } from "./lib/context";
import { cpuSeconds, postgresPids } from "./lib/cpu";

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] };
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] };

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const cpuOnly = args.includes("--cpu");
  const [load = "code", secondsArg = "10"] = args.filter((a) => !a.startsWith("--"));
  Object.assign(process.env, BENCH_SECRETS);
  delete process.env.DATABASE_URL;
  const { codeStepLoad, freshChallenges, startBareServer, userPool } = await import("./sections/sign-in");
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
    const nodeArgs = cpuOnly ? [] : ["--cpu-prof", `--cpu-prof-dir=${dir}`];
    const { server } = await startApp(PORTS.app, { url: pg.url }, { nodeArgs: load === "bare" ? [] : nodeArgs });
    const bare = load === "bare" ? await startBareServer(pg.url, nodeArgs) : null;
    const serverPid = () => bare?.pid ?? server.serverPid();
    let result: LoadResult;
    let cpu: { server: number; postgres: number };
    try {
      const templates = await captureSignIn(server.origin, users[20_000]);
      const pool = userPool(users.slice(0, 20_000));
      const cursor = { challenges: load === "code" || bare ? await freshChallenges(sql, pool) : [], next: 0 };
      let i = 0;
      const run = (seconds: number): Promise<LoadResult> => {
        const window = { ...options, seconds, warmupSeconds: 0 };
        if (load === "code" || bare) return codeStepLoad(bare?.origin ?? server.origin, templates, pool, cursor, window, false);
        if (load === "password")
          return runLoad({
            origin: server.origin,
            connections: 8,
            seconds,
            next: () => fill(templates.password, { [EMAIL]: pool.users[i++ % pool.users.length].email, [PASSWORD]: BENCH_PASSWORD }),
            ok: (status) => status === 200,
          });
        return runLoad({ origin: server.origin, connections: 8, seconds, next: () => ({ method: "GET", path: "/api/health/live" }), ok: (s) => s === 204 });
      };
      await run(options.warmupSeconds);
      const before = { server: cpuSeconds([serverPid()]), postgres: cpuSeconds(postgresPids()) };
      result = await run(options.seconds);
      const requests = result.ok + result.failed;
      cpu = {
        server: (1000 * (cpuSeconds([serverPid()]) - before.server)) / requests,
        postgres: (1000 * (cpuSeconds(postgresPids()) - before.postgres)) / requests,
      };
    } finally {
      await bare?.stop();
      await server.stop();
    }
    console.log(`${load}: ${result.rps.toFixed(1)} req/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms`);
    console.log(`CPU per request: server ${cpu.server.toFixed(2)} ms, PostgreSQL ${cpu.postgres.toFixed(2)} ms${cpuOnly ? "" : " (profiler on: ~30 % more for the server)"}`);
    if (cpuOnly) return;
    const file = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).map((f) => path.join(dir, f)).sort().at(-1);
    if (!file) throw new Error("no profile written");
    summarise(JSON.parse(readFileSync(file, "utf8")) as Profile, file, options.seconds);
  } finally {
    await sql.end();
    await pg.drop();
  }
}

const sourceMaps = new Map<string, SourceMap | null>();

/** The original file of a frame of the (minified) build, through its source map; else its url. */
function originalSource(url: string, line: number, column: number): string {
  if (!url.startsWith("file://")) return url;
  const file = url.slice("file://".length);
  if (!sourceMaps.has(file)) {
    let map: SourceMap | null = null;
    try {
      if (existsSync(`${file}.map`)) map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, "utf8")));
    } catch {
      // no usable map: the frame keeps its url
    }
    sourceMaps.set(file, map);
  }
  const entry = sourceMaps.get(file)?.findEntry(line, column);
  return entry && "originalSource" in entry && entry.originalSource ? entry.originalSource : url;
}

/** Which package (or part of the app) a frame belongs to. */
function owner(frameUrl: string, name: string, line = 0, column = 0): string {
  const url = originalSource(frameUrl, line, column);
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
  // The app's own files, as the source maps name them ([project]/lib/…, or a path relative to the chunk).
  const own = /(?:^|\/|\])((?:app|lib|db|proxy|instrumentation)(?:\/[^/]+)?)/.exec(url.replace(/^.*\[project\]\//, "/"));
  if (own && !url.includes("node_modules")) return `app: ${own[1]}`;
  if (url.includes("/.next/server/chunks")) return "app chunks (.next/server)";
  if (url.includes("/.next/")) return ".next (other)";
  return url;
}

/**
 * Only the measured window: the server stops as soon as it ends, so it is the
 * profile's last `seconds` (the start, the seeding wait and the warm-up are left out).
 */
function summarise(profile: Profile, file: string, seconds: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const elapsed = profile.timeDeltas.reduce((a, b) => a + b, 0);
  const from = elapsed - seconds * 1e6;
  const self = new Map<number, number>();
  let at = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at >= from) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const ownerOf = new Map(profile.nodes.map((n) => [n.id, owner(n.callFrame.url, n.callFrame.functionName, n.callFrame.lineNumber, n.callFrame.columnNumber)]));
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  // Inclusive: a sample counts once for every distinct owner (and named function) on its stack.
  const groupsInclusive = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id)!;
    add(groups, ownerOf.get(id)!, us);
    add(functions, `${callFrame.functionName || "(anonymous)"} ${ownerOf.get(id)}:${callFrame.lineNumber + 1}`, us);
    const owners = new Set<string>();
    const named = new Set<string>();
    for (let frame: number | undefined = id; frame !== undefined; frame = parent.get(frame)) {
      owners.add(ownerOf.get(frame)!);
      const name = byId.get(frame)!.callFrame.functionName;
      if (name.length >= 3) named.add(`${name} ${ownerOf.get(frame)}`); // minified names say nothing
    }
    for (const key of owners) add(groupsInclusive, key, us);
    for (const key of named) add(inclusive, key, us);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`).join("\n");
  console.log(
    `\n${file}: the last ${(total / 1e6).toFixed(1)} s\nself time by owner:\n${top(groups, 25)}\n\n` +
      `time with the owner on the stack (inclusive; async continuations start at the microtask queue):\n${top(groupsInclusive, 30)}\n\n` +
      `top functions (self):\n${top(functions, 30)}\n\ntop named functions (inclusive):\n${top(inclusive, 50)}`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
