import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { count, eq, isNotNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase, type Database } from "@/db";
import { auditEvents, totpCredentials, users } from "@/db/schema";
import { seedUserAt } from "@/lib/admin/seed-users";
import { getSettings } from "@/lib/settings";
import { countEnrolledUsers, createUser } from "@/lib/users";
import { CONTEXT, PASSWORD } from "./support/fixtures";

/**
 * The operator scripts as an operator runs them, on an embedded database
 * (the commands' logic is tested on both drivers in set-user-role, last-admin
 * and seed-users; this checks the wiring: arguments, exit codes, the lock).
 */
describe("npm run cli / npm run seed", () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vitest-cli-"));
  const run = (script: "cli" | "seed", ...args: string[]) => {
    const env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: "" };
    const tsx = path.join("node_modules", ".bin", "tsx");
    const result = spawnSync(tsx, ["--conditions=react-server", `scripts/${script}.ts`, ...args], { env, encoding: "utf8" });
    return { status: result.status, output: result.stdout + result.stderr };
  };
  async function inDatabase<T>(work: (db: Database) => Promise<T>): Promise<T> {
    const handle = await openDatabase({ url: null, dataDir });
    try {
      return await work(handle.db);
    } finally {
      await handle.close();
    }
  }

  beforeAll(async () => {
    cpSync(inject("pgliteTemplateDir"), dataDir, { recursive: true });
    await inDatabase((db) => createUser(db, { name: "Op", email: "op@example.test", password: PASSWORD, admin: true }, null, CONTEXT));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // Each run starts tsx and opens the database (seconds each): a few runs cover every path.
  it("refuses bad arguments before opening the database", () => {
    expect(run("cli")).toMatchObject({ status: 2, output: expect.stringContaining("set-admin --email E [--revoke]") });
    expect(run("cli", "settings", "--two-factor", "maybe")).toMatchObject({ status: 1, output: expect.stringContaining("use on or off") });
  });

  it("seeds users, refuses to demote the last administrator, promotes one, and switches 2FA off", async () => {
    expect(run("seed", "--users", "12", "--password", "seeded-password")).toMatchObject({ status: 0, output: expect.stringContaining("Added 12 users") });
    const refused = run("cli", "set-admin", "--email", "OP@example.test", "--revoke");
    expect(refused).toMatchObject({ status: 1, output: expect.stringContaining("last administrator") });
    expect(run("cli", "set-admin", "--email", "user00001@seed.example")).toMatchObject({ status: 0 });
    expect(run("cli", "settings", "--two-factor", "off")).toMatchObject({ status: 0 });

    await inDatabase(async (db) => {
      const admins = await db.select({ email: users.email }).from(users).where(eq(users.role, "admin"));
      expect(admins.map((a) => a.email).sort()).toEqual(["op@example.test", "user00001@seed.example"]);
      expect((await getSettings(db)).twoFactorEnabled).toBe(false);
      const events = await db.select({ event: auditEvents.event, details: auditEvents.details }).from(auditEvents);
      expect(events.filter((e) => e.event === "user.changed").map((e) => e.details)).toEqual([{ admin: true, via: "cli" }]);
      expect(events.filter((e) => e.event === "settings.changed").map((e) => e.details)).toEqual([{ twoFactorEnabled: false, via: "cli" }]);
    });
  });

  it("reset-2fa removes a seeded user's 2FA, and the enrolled counter follows", async () => {
    const n = Array.from({ length: 12 }, (_, i) => i + 1).find((k) => seedUserAt(k).state === "on")!;
    const email = seedUserAt(n).email;
    const enrolledNow = (db: Database) =>
      db.select({ n: count() }).from(totpCredentials).where(isNotNull(totpCredentials.enabledAt)).then(([row]) => row.n);
    const before = await inDatabase(async (db) => ({ counter: await countEnrolledUsers(db), rows: await enrolledNow(db) }));
    expect(before.counter).toBe(before.rows);
    expect(run("cli", "reset-2fa", "--email", email)).toMatchObject({ status: 0 });
    await inDatabase(async (db) => {
      expect(await countEnrolledUsers(db)).toBe(before.rows - 1);
      expect(await enrolledNow(db)).toBe(before.rows - 1);
    });
  });

  it("refuses to seed while another process (the server) holds the embedded database", () => {
    const holder = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.ppid))"], { encoding: "utf8" });
    writeFileSync(path.join(dataDir, "pglite.lock"), holder.stdout); // this test runner: alive
    try {
      const result = run("seed", "--users", "5");
      expect(result).toMatchObject({ status: 1, output: expect.stringContaining("in use by another process") });
    } finally {
      rmSync(path.join(dataDir, "pglite.lock"), { force: true });
    }
  });
});
