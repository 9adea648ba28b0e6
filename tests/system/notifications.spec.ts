import net from "node:net";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { enrollTwoFactor, freshCode, signIn, signOut, submitPassword, wrongCode } from "../e2e/fixtures/app";
import { startSmtpSink, type ReceivedMail } from "../support/smtp-sink";
import { freePort } from "./support/free-port";
import { cli, createDataDir, createStorage, DRIVERS, startServer } from "./support/server";

/**
 * Security notices from a real `next start`, sent with SMTP_URL to a real
 * SMTP server of this file: enable 2FA in My Settings, then sign in with a
 * wrong code and the right one, in Chromium. The mails leave through `after()`
 * once the responses are out; they must arrive, say what happened and from
 * where, and hold no secret. And an SMTP server that never answers slows
 * down nothing the user waits for.
 */
const USER = { name: "Mia Mailbox", email: "mia@example.com", password: "juniper cobalt meadow 42" };
const FROM = "Sign-in tests <signin@example.test>";
const LOCAL_IP = /^IP: +(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/m;

test.describe.configure({ mode: "parallel" });

for (const driver of DRIVERS) {
  test(`on ${driver}: enabling 2FA and a wrong code at sign-in are mailed to the user`, async ({ browser }) => {
    test.setTimeout(180_000);
    const { storage, remove: cleanup } = await createStorage(driver);
    const sink = await startSmtpSink();
    cli(storage, "create-user", "--email", USER.email, "--password", USER.password, "--name", USER.name);
    const server = await startServer(await freePort(), storage, { SMTP_URL: sink.url, MAIL_FROM: FROM });
    const mailsTo = (subject: string) => (m: ReceivedMail) => m.rcptTo.includes(USER.email) && m.subject === subject;
    try {
      expect(server.log()).toContain(`[start] mail: security notifications via 127.0.0.1:${sink.port}`);
      const context = await browser.newContext({ baseURL: server.url });
      const page = await context.newPage();
      await signIn(page, USER);
      const enrolled = await enrollTwoFactor(page);
      const [enabled] = await sink.waitFor(1, mailsTo("Two-factor authentication was turned on"));
      expect(enabled.headers.get("from")).toContain("signin@example.test");
      expect(enabled.headers.get("to")).toContain(USER.email);
      expect(enabled.text).toContain(`Hello ${USER.name},`);
      expect(enabled.text).toMatch(LOCAL_IP);
      expect(enabled.text).toMatch(/^Browser: +Chrome on \w+/m);
      expect(enabled.text).toMatch(/^When: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m);
      await signOut(page);

      // The password, a wrong code, then the right one.
      await submitPassword(page, USER.email, USER.password);
      const guess = wrongCode(enrolled.secret);
      await page.getByLabel("Authentication code").fill(guess);
      await page.getByRole("button", { name: "Verify" }).click();
      await expect(page.getByText("That code is not valid.", { exact: false })).toBeVisible();
      await expect(page.getByLabel("Authentication code")).toHaveValue("");
      const { code } = await freshCode(enrolled.secret, enrolled.lastStep);
      await page.getByLabel("Authentication code").fill(code);
      await page.getByRole("button", { name: "Verify" }).click();
      await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
      const [refused] = await sink.waitFor(1, mailsTo("A wrong sign-in code was refused"));
      expect(refused.text).toMatch(/password was entered correctly.*refused/);
      expect(refused.text).toMatch(LOCAL_IP);
      expect(refused.text).toMatch(/^If it was not you: someone knows your password/m);
      await context.close();

      // Nothing else went out (a code sign-in is no news), and nothing secret did.
      expect(sink.messages.map((m) => m.subject).sort()).toEqual(["A wrong sign-in code was refused", "Two-factor authentication was turned on"]);
      for (const mail of sink.messages) {
        for (const secret of [enrolled.secret, ...enrolled.recoveryCodes]) expect(mail.raw.toLowerCase()).not.toContain(secret.toLowerCase());
        for (const six of [guess, code]) expect(`${mail.subject}\n${mail.text}`).not.toContain(six);
      }
    } finally {
      await server.stop();
      await sink.stop();
      await cleanup();
    }
  });
}

/** Accepts connections and never says a word: nodemailer waits for a greeting until its timeout (10 s). */
async function startSilentSmtp(): Promise<{ url: string; stop(): Promise<void> }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))),
  };
}

test("an SMTP server that never answers delays no answer: the mail waits in after(), and its failure is logged", async ({ browser }) => {
  test.setTimeout(180_000);
  const dir = createDataDir();
  const storage = { dataDir: dir.dataDir };
  const silent = await startSilentSmtp();
  const user = { ...USER, email: "slow@example.com" };
  cli(storage, "create-user", "--email", user.email, "--password", user.password, "--name", user.name);
  const server = await startServer(await freePort(), storage, { SMTP_URL: silent.url });
  try {
    const context = await browser.newContext({ baseURL: server.url });
    const page = await context.newPage();
    await signIn(page, user);
    const enrolled = await enrollTwoFactor(page);
    await signOut(page);
    await submitPassword(page, user.email, user.password);
    await page.getByLabel("Authentication code").fill(wrongCode(enrolled.secret));
    const started = Date.now();
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.getByText("That code is not valid.", { exact: false })).toBeVisible();
    // Well under the 10-s greeting timeout the send is still waiting on.
    expect(Date.now() - started).toBeLessThan(5_000);
    await context.close();
    await expect.poll(() => server.log(), { timeout: 30_000 }).toMatch(/\[mail\] code_refused for user [0-9a-f-]{36}: not sent \(ETIMEDOUT/);
    expect(server.log()).toMatch(/\[mail\] two_factor_enabled for user [0-9a-f-]{36}: not sent/);
    expect(server.log()).not.toContain(user.email);
  } finally {
    await server.stop();
    await silent.stop();
    dir.remove();
  }
});
