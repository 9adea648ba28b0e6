import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { BENCH_SECRETS } from "./config";

export type Storage = { url: string } | { dataDir: string };

export type AppServer = {
  readonly origin: string;
  readonly port: number;
  /** The pid of the Node process that serves (next-server), not of a wrapper such as npm. */
  serverPid(): number;
  log(): string;
  stop(): Promise<void>;
};

export function serverEnv(port: number, storage: Storage, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...BENCH_SECRETS,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(port),
    AUTH_URL: `http://localhost:${port}`,
    ...extra,
  };
  if ("url" in storage) {
    env.DATABASE_URL = storage.url;
    delete env.DATA_DIR;
  } else {
    env.DATA_DIR = storage.dataDir;
    delete env.DATABASE_URL;
  }
  return env;
}

/**
 * Starts the production build. `via: "next"` runs `node next start` (the
 * load tests: one process, its pid is the server's); `via: "npm"` runs
 * `npm start` exactly as a person would (prestart's build check included),
 * for the start-time figure. Resolves once GET /login answers 200, with the
 * milliseconds from spawn to that answer.
 */
export async function startApp(
  port: number,
  storage: Storage,
  options: { via?: "next" | "npm"; extraEnv?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<{ server: AppServer; firstLoginMs: number; marks: Record<string, number> }> {
  const env = serverEnv(port, storage, options.extraEnv);
  const started = performance.now();
  const child =
    options.via === "npm"
      ? spawn("npm", ["start", "--silent"], { env, stdio: ["ignore", "pipe", "pipe"], detached: true })
      : spawn(process.execPath, [...(options.nodeArgs ?? []), path.resolve("node_modules/next/dist/bin/next"), "start", "-p", String(port)], {
          env,
          stdio: ["ignore", "pipe", "pipe"],
          detached: true, // own process group: stop() ends the server and nothing else
        });
  let output = "";
  // When the server logged each stage: where the start time goes (npm + build check + boot, database, first render).
  const marks: Record<string, number> = {};
  const stages = { ready: /Ready in/, database: /\[start\] database:/ };
  const onData = (chunk: Buffer) => {
    output += chunk;
    for (const [stage, pattern] of Object.entries(stages)) if (!(stage in marks) && pattern.test(output)) marks[stage] = performance.now() - started;
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const origin = `http://localhost:${port}`;
  await waitForLogin(origin, child, () => output);
  const firstLoginMs = performance.now() - started;
  const server: AppServer = {
    origin,
    port,
    serverPid: () => findServerPid(child.pid!),
    log: () => output,
    // npm exits on SIGTERM before its child has closed the database: wait for the server process itself.
    stop: async () => {
      const pid = findServerPid(child.pid!);
      await stopGroup(child);
      await waitForExit(pid);
    },
  };
  return { server, firstLoginMs, marks };
}

async function waitForLogin(origin: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${origin}/login`, { redirect: "manual" });
      await response.arrayBuffer();
      if (response.status === 200) return;
      if (response.status >= 500) throw new Error(`/login answered ${response.status}:\n${output()}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("/login answered")) throw error;
      // not listening yet
    }
    // Polling every 25 ms bounds the error of the start figure by 25 ms.
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await stopGroup(child);
  throw new Error(`server at ${origin} did not serve /login in time:\n${output()}`);
}

export async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    process.kill(-child.pid!, "SIGTERM"); // the group we created with detached: true
  } catch {
    child.kill("SIGTERM");
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      /* gone */
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

async function waitForExit(pid: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (existsSync(`/proc/${pid}`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (existsSync(`/proc/${pid}`)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
}

/** The next-server process among `root` and its descendants (npm → sh → node). */
function findServerPid(root: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("next-server")) return pid;
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      if (/^Name:\s+next-server/m.test(status)) return pid;
    } catch {
      /* exited */
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return root;
}

/** Resident set size of a process, MiB (VmRSS of /proc/<pid>/status). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return kb / 1024;
}
