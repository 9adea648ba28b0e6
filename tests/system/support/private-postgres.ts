import { execFile, execFileSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

/**
 * A throwaway PostgreSQL cluster of the test's own, so that it can be stopped,
 * killed and restarted under a running app without disturbing anyone else's
 * server. Trust authentication, 127.0.0.1 only, in a temporary folder.
 */
export type PrivatePostgres = {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  /** `pg_ctl stop -m <mode>`; "immediate" is a crash (no checkpoint, recovery at the next start). */
  stop(mode?: "smart" | "fast" | "immediate"): Promise<void>;
  start(): Promise<void>;
  /** `pg_ctl restart -m <mode>` */
  restart(mode?: "smart" | "fast" | "immediate"): Promise<void>;
  /** Stops it (if running) and deletes its folder. */
  remove(): Promise<void>;
};

const BIN = process.env.POSTGRES_BIN || "/usr/lib/postgresql/15/bin";
const OS_USER = "postgres";

/**
 * Runs a PostgreSQL binary as the `postgres` OS user (initdb and postgres refuse to run as root).
 * Asynchronously: a test's own load keeps running while the cluster restarts.
 */
async function run(binary: string, args: string[]): Promise<void> {
  const command = path.join(BIN, binary);
  const [file, argv] = process.getuid?.() === 0 ? ["runuser", ["-u", OS_USER, "--", command, ...args]] : [command, args];
  try {
    await promisify(execFile)(file, argv, { encoding: "utf8" });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${binary} ${args.join(" ")} failed:\n${stdout ?? ""}\n${stderr ?? ""}`);
  }
}

export async function startPrivatePostgres(port: number): Promise<PrivatePostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "system-postgres-"));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", OS_USER], { encoding: "utf8" }));
    const gid = Number(execFileSync("id", ["-g", OS_USER], { encoding: "utf8" }));
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, "data");
  // Socket in the cluster's own folder (the system's /var/run/postgresql belongs to the shared server).
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`;
  const pgCtl = (...args: string[]) => run("pg_ctl", ["-D", data, "-l", path.join(dir, "server.log"), "-w", "-t", "60", ...args]);
  let running = false;
  const cluster: PrivatePostgres = {
    port,
    url: (database = "postgres") => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async stop(mode = "fast") {
      await pgCtl("stop", "-m", mode);
      running = false;
    },
    async start() {
      await pgCtl("start", "-o", options);
      running = true;
    },
    async restart(mode = "fast") {
      await pgCtl("restart", "-m", mode, "-o", options);
      running = true;
    },
    async remove() {
      if (running) await cluster.stop("immediate").catch(() => {}); // already down
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // --no-sync: initdb's own files need not survive a power loss; the server still fsyncs its WAL.
    await run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    await cluster.start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return cluster;
}
