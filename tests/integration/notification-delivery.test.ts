import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { eq, like, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { openDatabase } from "@/db";
import { rateLimits, users } from "@/db/schema";
import { completeSignIn } from "@/lib/auth/second-step";
import { passwordStep } from "@/lib/auth/sign-in";
import { SUBJECTS } from "@/lib/notifications/messages";
import { disableTwoFactor, regenerateRecoveryCodes } from "@/lib/two-factor/manage";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, CONTEXT, enrolledUser, openChallenge, totpRow, userRow, wrongCode, type EnrolledUser } from "./support/fixtures";

/**
 * How notices are delivered, rather than what they say: not at all without
 * SMTP_URL, the "wrong code" notice at most once an hour whatever the number
 * of guesses and instances, an SMTP server that is down changes nothing for
 * the user, names cannot forge headers, and the CLI mails too.
 */
let sink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpSink();
});
afterAll(() => sink.stop());
beforeEach(() => {
  process.env.SMTP_URL = sink.url;
});
afterEach(() => {
  delete process.env.SMTP_URL;
  vi.restoreAllMocks();
});

const mailsTo = (email: string, subject?: string) => sink.messages.filter((m) => m.rcptTo.includes(email) && (!subject || m.subject === subject));

/** A port nobody listens on: an SMTP server that is down. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe.each(testDrivers())("delivery of security notices on %s", (driver) => {
  const t = useTestDatabase(driver);
  const refuse = async (user: EnrolledUser, challenge: string, method: "totp" | "recovery" = "totp") =>
    completeSignIn(t.db, { challenge, method, code: method === "totp" ? wrongCode(user.secret) : "AAAAA-BBBBB" }, CONTEXT);
  /** Forgets the lockout counters (not the mail claim), so that guessing can go on. */
  const unlock = (userId: string) =>
    t.db.update(users).set({ secondFactorFailures: 0, secondFactorLockouts: 0, secondFactorLockedUntil: null }).where(eq(users.id, userId));

  it("without SMTP_URL nothing is sent and nothing else changes (no claim row either)", async () => {
    delete process.env.SMTP_URL;
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    expect((await refuse(user, challenge)).ok).toBe(false);
    expect((await completeSignIn(t.db, { challenge, method: "recovery", code: user.recoveryCodes[0] }, CONTEXT)).ok).toBe(true);
    expect(await disableTwoFactor(t.db, user.id, codeAt(user.secret), CONTEXT)).toMatchObject({ ok: true });
    expect(mailsTo(user.email)).toEqual([]);
    expect(await t.db.select().from(rateLimits).where(like(rateLimits.key, `mail:%${user.id}`))).toEqual([]);
  });

  it("a wrong password never mails: the notice means the password was right", async () => {
    const user = await enrolledUser(t.db);
    expect((await passwordStep(t.db, { email: user.email, password: "not the password" }, CONTEXT)).ok).toBe(false);
    expect(mailsTo(user.email, SUBJECTS.code_refused)).toEqual([]);
  });

  it("wrong codes mail at most once an hour — in parallel, TOTP and recovery, across lockouts — and again after the hour", async () => {
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    // Parallel guesses race for the claim: one wins.
    const parallel = await Promise.all([1, 2, 3, 4].map(() => refuse(user, challenge)));
    expect(parallel.every((r) => !r.ok)).toBe(true);
    for (let round = 0; round < 3; round++) {
      await unlock(user.id);
      for (let i = 0; i < 4; i++) expect((await refuse(user, challenge, i % 2 ? "recovery" : "totp")).ok).toBe(false);
    }
    expect((await refuse(user, challenge)).ok).toBe(false); // the fifth in a row: a lockout
    expect((await userRow(t.db, user.id)).secondFactorLockedUntil).not.toBeNull();
    expect(mailsTo(user.email, SUBJECTS.code_refused)).toHaveLength(1);

    // An hour later (the stored claim moved back: there is no clock to wind), the next refusal mails again.
    await t.db
      .update(rateLimits)
      .set({ windowStartedAt: sql`${rateLimits.windowStartedAt} - interval '61 minutes'` })
      .where(eq(rateLimits.key, `mail:code_refused:${user.id}`));
    await unlock(user.id);
    expect((await refuse(user, challenge)).ok).toBe(false);
    expect((await refuse(user, challenge)).ok).toBe(false);
    expect(mailsTo(user.email, SUBJECTS.code_refused)).toHaveLength(2);
  });

  it("the hourly limit is per user: another user's guesses mail them too", async () => {
    const [alice, bob] = [await enrolledUser(t.db), await enrolledUser(t.db)];
    await refuse(alice, await openChallenge(t.db, alice));
    await refuse(bob, await openChallenge(t.db, bob));
    expect(mailsTo(alice.email, SUBJECTS.code_refused)).toHaveLength(1);
    expect(mailsTo(bob.email, SUBJECTS.code_refused)).toHaveLength(1);
  });

  it("an SMTP server that is down: the action succeeds, the failure is logged without the address, the claim is released", async () => {
    const user = await enrolledUser(t.db);
    process.env.SMTP_URL = `smtp://mailer:smtp-password-123@127.0.0.1:${await closedPort()}`;
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await disableTwoFactor(t.db, user.id, codeAt(user.secret), CONTEXT)).toMatchObject({ ok: true });
    expect(await totpRow(t.db, user.id)).toBeNull();
    const lines = logged.mock.calls.map((args) => args.join(" "));
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^\\[mail\\] two_factor_disabled for user ${user.id}: not sent \\(E[A-Z]+: .*ECONNREFUSED`))]);
    expect(lines.join("\n")).not.toContain(user.email);
    expect(lines.join("\n")).not.toContain("smtp-password-123");

    // A refused code while SMTP is down: the claim is given back, so the next one (SMTP up again) still mails.
    const other = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, other);
    expect(await refuse(other, challenge)).toEqual({ ok: false, error: "code_invalid" });
    process.env.SMTP_URL = sink.url;
    expect(await refuse(other, challenge)).toEqual({ ok: false, error: "code_invalid" });
    expect(mailsTo(other.email, SUBJECTS.code_refused)).toHaveLength(1);
  });

  it("a name with line breaks cannot add headers or recipients", async () => {
    const user = await enrolledUser(t.db);
    await t.db.update(users).set({ name: "Eve\r\nBcc: victim@example.test\r\nSubject: Urgent" }).where(eq(users.id, user.id));
    const result = await regenerateRecoveryCodes(t.db, user.id, codeAt(user.secret), CONTEXT);
    expect(result.ok).toBe(true);
    const [mail] = await sink.waitFor(1, (m) => m.rcptTo.includes(user.email) && m.subject === SUBJECTS.recovery_codes_regenerated);
    expect(mail.rcptTo).toEqual([user.email]);
    expect(mail.raw.split("\r\n\r\n")[0]).not.toMatch(/^(bcc|subject: urgent)/im);
    expect(mail.subject).toBe(SUBJECTS.recovery_codes_regenerated);
    expect(mail.text).toContain("Hello Eve  Bcc: victim@example.test  Subject: Urgent,");
  });
});

describe("npm run cli -- reset-2fa", () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vitest-cli-mail-"));
  // Not spawnSync: the SMTP server lives in this process, and must answer while the CLI runs.
  const cli = (env: Record<string, string>, ...args: string[]) =>
    new Promise<{ status: number | null; output: string }>((resolve) => {
      const tsx = path.join("node_modules", ".bin", "tsx");
      const options = { env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: "", ...env }, encoding: "utf8" as const };
      execFile(tsx, ["--conditions=react-server", "scripts/cli.ts", ...args], options, (error, stdout, stderr) => {
        resolve({ status: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: stdout + stderr });
      });
    });
  let user: EnrolledUser;

  beforeAll(async () => {
    cpSync(inject("pgliteTemplateDir"), dataDir, { recursive: true });
    const handle = await openDatabase({ url: null, dataDir });
    try {
      user = await enrolledUser(handle.db); // SMTP_URL is unset here: no mail yet
    } finally {
      await handle.close();
    }
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("refuses a malformed SMTP_URL by name before changing anything", async () => {
    const result = await cli({ SMTP_URL: "http://mail.example.test" }, "reset-2fa", "--email", user.email);
    expect(result).toMatchObject({ status: 1, output: expect.stringContaining("SMTP_URL must start with smtp:// or smtps://") });
  });

  it("mails the user, from the command line, before the process exits", async () => {
    const since = Date.now();
    expect(await cli({ SMTP_URL: sink.url }, "reset-2fa", "--email", user.email)).toMatchObject({ status: 0 });
    const mails = mailsTo(user.email);
    expect(mails.map((m) => m.subject)).toEqual([SUBJECTS.two_factor_removed]);
    expect(mails[0].text).toContain("on the server's command line");
    expect(mails[0].text).toMatch(/^From: +the server itself \(command line\)$/m);
    const when = /^When: +(\S+ \S+) UTC$/m.exec(mails[0].text)![1];
    expect(new Date(`${when.replace(" ", "T")}Z`).getTime()).toBeGreaterThanOrEqual(Math.floor(since / 1000) * 1000);
    // Run again: there is no second factor left to remove, so no second notice.
    expect(await cli({ SMTP_URL: sink.url }, "reset-2fa", "--email", user.email)).toMatchObject({ status: 0 });
    expect(mailsTo(user.email)).toHaveLength(1);
  }, 120_000); // two CLI processes (tsx, then PGlite), slow beside the other test files on 2 cores
});
