import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";

/**
 * Servers of the system tests' own: `next start` of the build under test on a
 * port and database of the test's choosing, so that a test may run two of
 * them, kill one, or restart the database beneath it.
 */
export type Server = {
  readonly url: string;
  readonly port: number;
  /** The `next start` process: a restart of the same server would change it. */
  readonly pid: number;
  /** False once the process has exited (crashed, stopped or killed). */
  running(): boolean;
  /** Everything the server printed so far. */
  log(): string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no shutdown hooks run. */
  kill(): Promise<void>;
};

/** Fixed secrets, so that several instances accept each other's cookies and ciphertexts. */
export const SHARED_SECRETS = {
  AUTH_SECRET: "system-tests-auth-secret-0123456789abcdef0123456789",
  TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
  NEXT_SERVER_ACTIONS_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString("base64"),
};

export type Storage = { databaseUrl: string } | { dataDir: string };

function storageEnv(storage: Storage): Record<string, string> {
  return "databaseUrl" in storage ? { DATABASE_URL: storage.databaseUrl } : { DATA_DIR: storage.dataDir };
}

/** How to run the build: `next start` (default), or the standalone server of `output: "standalone"`. */
export type Launch = "next-start" | "standalone";

export const STANDALONE_SERVER = path.resolve(".next/standalone/server.js");

export async function startServer(port: number, storage: Storage, extraEnv: Record<string, string> = {}, launch: Launch = "next-start"): Promise<Server> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...SHARED_SECRETS, PORT: String(port), AUTH_URL: `http://localhost:${port}`, ...storageEnv(storage), ...extraEnv };
  if (!("databaseUrl" in storage)) delete env.DATABASE_URL;
  // The standalone server listens on HOSTNAME, which shells and containers often set to the machine's name.
  if (launch === "standalone") env.HOSTNAME = "localhost";
  const args = launch === "standalone" ? [STANDALONE_SERVER] : [path.resolve("node_modules/next/dist/bin/next"), "start", "-p", String(port)];
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const url = `http://localhost:${port}`;
  await waitUntilServing(url, child, () => output);
  const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once("exit", () => resolve())));
  return {
    url,
    port,
    pid: child.pid!,
    running: () => child.exitCode === null && child.signalCode === null,
    log: () => output,
    async stop() {
      child.kill("SIGTERM");
      await exited(child);
    },
    async kill() {
      child.kill("SIGKILL");
      await exited(child);
    },
  };
}

async function waitUntilServing(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${url}/login`, { redirect: "manual" });
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  child.kill("SIGKILL");
  throw new Error(`server at ${url} did not answer in time:\n${output()}`);
}

/** A new, empty database on DATABASE_URL's server; `drop()` removes it. */
export async function createPostgresDatabase(serverUrl = process.env.DATABASE_URL!): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const name = `system_${randomBytes(6).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    async drop() {
      const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
      await sql.end();
    },
  };
}

/** The databases a system test runs on: embedded always, PostgreSQL when DATABASE_URL is set (CI sets it). */
export type Driver = "pglite" | "postgres";
export const DRIVERS: Driver[] = process.env.DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

/** New, empty storage for a driver; `remove()` drops the database or deletes the folder. */
export async function createStorage(driver: Driver): Promise<{ storage: Storage; remove(): Promise<void> }> {
  if (driver === "postgres") {
    const database = await createPostgresDatabase();
    return { storage: { databaseUrl: database.databaseUrl }, remove: database.drop };
  }
  const dir = createDataDir();
  return { storage: { dataDir: dir.dataDir }, remove: async () => dir.remove() };
}

/** A new, empty embedded-database folder; `remove()` deletes it. */
export function createDataDir(): { dataDir: string; remove(): void } {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "system-pglite-"));
  return { dataDir, remove: () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** Runs the product's CLI against a storage (with PGlite, only while no server holds it). */
export function cli(storage: Storage, ...args: string[]): string {
  const env: NodeJS.ProcessEnv = { ...process.env, ...SHARED_SECRETS, ...storageEnv(storage) };
  if (!("databaseUrl" in storage)) delete env.DATABASE_URL;
  const result = spawnSync("npm", ["run", "--silent", "cli", "--", ...args], { env, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`cli ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}
