import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * PGlite has no lock between processes: a second process opening the same
 * folder silently diverges from the first. This pid file is that lock.
 */
export class DatabaseLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `The embedded database in ${dir} is in use by another process (pid ${pid}), probably the running server. ` +
        "Stop the server first, or point DATABASE_URL at a PostgreSQL server to run both at once.",
    );
    this.name = "DatabaseLockedError";
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Release runs twice (close(), then the exit handler in db/index.ts): by the
 * second time another process may hold the lock, which must stay.
 */
function releaseIfOurs(file: string): void {
  try {
    if (readFileSync(file, "utf8") === String(process.pid)) rmSync(file, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/** Takes the lock for this process, or throws DatabaseLockedError. A lock left by a dead process is taken over. */
export function acquireLock(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = path.join(/*turbopackIgnore: true*/ dir, "pglite.lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
      return () => releaseIfOurs(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number(readFileSync(file, "utf8"));
    if (owner === process.pid) return () => releaseIfOurs(file);
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) throw new DatabaseLockedError(dir, owner);
    rmSync(file, { force: true }); // stale: its process is gone (e.g. kill -9)
  }
  throw new Error(`Could not take the lock in ${dir}`);
}
