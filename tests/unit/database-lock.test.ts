import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireLock, DatabaseLockedError } from "@/db/lock";

/** The embedded database's pid lock: PGlite itself has none between processes. */
describe("PGlite folder lock", () => {
  let dir: string;
  let lockFile: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "vitest-lock-"));
    lockFile = path.join(dir, "pglite.lock");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid!;

  it("writes this process's pid and removes it on release", () => {
    const release = acquireLock(dir);
    expect(readFileSync(lockFile, "utf8")).toBe(String(process.pid));
    release();
    expect(existsSync(lockFile)).toBe(false);
  });

  it("refuses a second process while the first is alive (no silently diverging copies)", () => {
    writeFileSync(lockFile, String(process.ppid)); // a live process: the test runner
    expect(() => acquireLock(dir)).toThrow(DatabaseLockedError);
    expect(readFileSync(lockFile, "utf8")).toBe(String(process.ppid));
  });

  it("takes over a lock left by a process that died (kill -9)", () => {
    writeFileSync(lockFile, String(deadPid()));
    const release = acquireLock(dir);
    expect(readFileSync(lockFile, "utf8")).toBe(String(process.pid));
    release();
  });

  it("does not remove another process's lock when released again later (e.g. by an exit handler)", () => {
    const release = acquireLock(dir);
    release();
    writeFileSync(lockFile, String(process.ppid)); // the server started meanwhile and took the lock
    release(); // this process exits: its exit handler releases once more
    expect(readFileSync(lockFile, "utf8")).toBe(String(process.ppid));
  });
});
