import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { count, eq, isNotNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase, type Database } from "@/db";
import { auditEvents, securityKeys, totpCredentials, users } from "@/db/schema";
import { seedUserAt } from "@/lib/admin/seed-users";
import { getSettings } from "@/lib/settings";
import { countEnrolledUsers, createUser, findUserByEmail } from "@/lib/users";
import { SUBJECTS } from "@/lib/notifications/messages";
import { MESSAGES } from "@/lib/validation/messages";
import { startSmtpSink } from "../support/smtp-sink";
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
  /** As `run`, with SMTP_URL set: asynchronous, so that this process's SMTP server can answer the CLI's send. */
  const runMailing = (smtpUrl: string, ...args: string[]) =>
    new Promise<{ status: number | null; output: string }>((resolve) => {
      const env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: "", SMTP_URL: smtpUrl };
      const child = spawn(path.join("node_modules", ".bin", "tsx"), ["--conditions=react-server", "scripts/cli.ts", ...args], { env });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      child.on("close", (status) => resolve({ status, output }));
    });
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

  it("create-user refuses a common password and one containing the email, and creates nobody", async () => {
    const common = run("cli", "create-user", "--email", "weak@example.test", "--password", "Password1234567");
    expect(common).toMatchObject({ status: 1, output: expect.stringContaining(`--password: ${MESSAGES.passwordTooCommon}`) });
    const own = run("cli", "create-user", "--email", "weak@example.test", "--password", "my weak@example.test login");
    expect(own).toMatchObject({ status: 1, output: expect.stringContaining("--password: This password contains the user's email address.") });
    expect(await inDatabase((db) => findUserByEmail(db, "weak@example.test"))).toBeNull();
  });

  it("seeds users, refuses to demote the last administrator, promotes one, and switches 2FA off", async () => {
    expect(run("seed", "--users", "12", "--password", "seeded-password")).toMatchObject({ status: 0, output: expect.stringContaining("Added 12 users") });
    const refused = run("cli", "set-admin", "--email", "OP@example.test", "--revoke");
    expect(refused).toMatchObject({ status: 1, output: expect.stringContaining("last administrator") });
    const sink = await startSmtpSink();
    try {
      expect(await runMailing(sink.url, "set-admin", "--email", "user00001@seed.example")).toMatchObject({ status: 0 });
      expect(await runMailing(sink.url, "settings", "--two-factor", "off")).toMatchObject({ status: 0 });
      // The promoted user is told, and so is every administrator, of the promotion and of 2FA turned off.
      const toUser = sink.messages.filter((m) => m.rcptTo.includes("user00001@seed.example"));
      expect(toUser.map((m) => m.subject).sort()).toEqual([SUBJECTS.administrator_added, SUBJECTS.instance_two_factor_off, SUBJECTS.role_changed].sort());
      const toOp = sink.messages.filter((m) => m.rcptTo.includes("op@example.test"));
      expect(toOp.map((m) => m.subject).sort()).toEqual([SUBJECTS.administrator_added, SUBJECTS.instance_two_factor_off].sort());
      for (const mail of [...toUser, ...toOp]) {
        expect(mail.text).toContain("An administrator on the server's command line");
        expect(mail.text).toMatch(/^From: +the server itself \(command line\)$/m);
      }
    } finally {
      await sink.stop();
    }

    await inDatabase(async (db) => {
      const admins = await db.select({ email: users.email }).from(users).where(eq(users.role, "admin"));
      expect(admins.map((a) => a.email).sort()).toEqual(["op@example.test", "user00001@seed.example"]);
      expect((await getSettings(db)).twoFactorEnabled).toBe(false);
      const events = await db.select({ event: auditEvents.event, details: auditEvents.details }).from(auditEvents);
      expect(events.filter((e) => e.event === "user.changed").map((e) => e.details)).toEqual([{ admin: true, via: "cli" }]);
      expect(events.filter((e) => e.event === "settings.changed").map((e) => e.details)).toEqual([{ twoFactorEnabled: false, via: "cli" }]);
    });
  });

  it("reset-2fa removes a seeded user's 2FA and security keys, says how many keys, and the enrolled counter follows", async () => {
    const n = Array.from({ length: 12 }, (_, i) => i + 1).find((k) => seedUserAt(k).state === "on")!;
    const email = seedUserAt(n).email;
    const enrolledNow = (db: Database) =>
      db.select({ n: count() }).from(totpCredentials).where(isNotNull(totpCredentials.enabledAt)).then(([row]) => row.n);
    const keysOf = (db: Database, userId: string) => db.select({ n: count() }).from(securityKeys).where(eq(securityKeys.userId, userId)).then(([row]) => row.n);
    const before = await inDatabase(async (db) => {
      const user = (await findUserByEmail(db, email))!;
      const key = (name: string) => ({ userId: user.id, credentialId: `cli-${name}`, publicKey: "k", deviceType: "singleDevice" as const, backedUp: false, userVerified: true, aaguid: "0", name });
      await db.insert(securityKeys).values([key("desk"), key("phone")]);
      return { userId: user.id, counter: await countEnrolledUsers(db), rows: await enrolledNow(db) };
    });
    expect(before.counter).toBe(before.rows);
    const reset = run("cli", "reset-2fa", "--email", email);
    expect(reset).toMatchObject({ status: 0, output: expect.stringContaining(`Two-factor authentication removed for ${email}, with 2 security keys;`) });
    await inDatabase(async (db) => {
      expect(await countEnrolledUsers(db)).toBe(before.rows - 1);
      expect(await enrolledNow(db)).toBe(before.rows - 1);
      expect(await keysOf(db, before.userId)).toBe(0);
    });
  });

  it("reset-2fa for a user whose only factor is a security key removes it and mails them, as for the app", async () => {
    const n = Array.from({ length: 12 }, (_, i) => i + 1).find((k) => seedUserAt(k).state === "off")!;
    const { email } = seedUserAt(n);
    const userId = await inDatabase(async (db) => {
      const user = (await findUserByEmail(db, email))!;
      await db.insert(securityKeys).values({ userId: user.id, credentialId: "cli-only-key", publicKey: "k", deviceType: "multiDevice", backedUp: true, userVerified: true, aaguid: "0", name: "Phone" });
      return user.id;
    });
    const sink = await startSmtpSink();
    try {
      const reset = await runMailing(sink.url, "reset-2fa", "--email", email);
      expect(reset).toMatchObject({ status: 0, output: expect.stringContaining(`removed for ${email}, with 1 security key;`) });
      const [mail] = await sink.waitFor(1, (m) => m.rcptTo.includes(email) && m.subject === SUBJECTS.two_factor_removed);
      expect(mail.text).toContain("on the server's command line");
    } finally {
      await sink.stop();
    }
    await inDatabase(async (db) => expect(await db.select().from(securityKeys).where(eq(securityKeys.userId, userId))).toEqual([]));
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
