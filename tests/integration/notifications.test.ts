import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { instanceSettings } from "@/db/schema";
import type { RequestContext } from "@/lib/audit";
import { updateUserProperties } from "@/lib/admin/user-properties";
import { completeSignIn } from "@/lib/auth/second-step";
import { SUBJECTS } from "@/lib/notifications/messages";
import { getSettings } from "@/lib/settings";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { disableTwoFactor, regenerateRecoveryCodes } from "@/lib/two-factor/manage";
import { startSmtpSink, type ReceivedMail, type SmtpSink } from "../support/smtp-sink";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, enrolledUser, newUser, openChallenge, rewindLastUsedStep, wrongCode, type TestUser } from "./support/fixtures";

/**
 * Each of the seven security notices, through the lib function the action
 * calls, delivered over real SMTP to a real SMTP server on 127.0.0.1 (outside
 * a request the send is awaited, so the mail is there when the call returns).
 */
const CHROME_ON_LINUX: RequestContext = {
  ip: "198.51.100.23",
  userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
};
const FIREFOX_ON_WINDOWS: RequestContext = {
  ip: "2001:db8::42",
  userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
};

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
});

/** Everything secret this file produced: no mail may contain any of it. */
const secrets = { long: new Set<string>(), codes: new Set<string>() };
const keepSecrets = (user: { secret?: string; recoveryCodes?: string[] }) => {
  if (user.secret) secrets.long.add(user.secret);
  user.recoveryCodes?.forEach((code) => secrets.long.add(code).add(code.replace(/-/g, "")));
};
const code = (value: string) => (secrets.codes.add(value), value);

/** The one mail with this subject sent to `email`. */
async function theMail(email: string, subject: string): Promise<ReceivedMail> {
  const [mail, ...more] = await sink.waitFor(1, (m) => m.rcptTo.includes(email) && m.subject === subject);
  expect(more).toEqual([]);
  return mail;
}

/** What every notice says: to whom, what happened, when (UTC), from where, and what to do. */
function expectNotice(mail: ReceivedMail, to: TestUser, context: RequestContext, browser: string, since: Date, happened: RegExp): void {
  expect(mail.rcptTo).toEqual([to.email]);
  expect(mail.headers.get("to")).toContain(to.email);
  expect(mail.text).toContain(`Hello ${to.name},`);
  expect(mail.text).toMatch(happened);
  const when = /^When: +(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$/m.exec(mail.text);
  expect(when, "a UTC time").not.toBeNull();
  const at = new Date(`${when![1].replace(" ", "T")}Z`).getTime();
  expect(at).toBeGreaterThanOrEqual(Math.floor(since.getTime() / 1000) * 1000);
  expect(at).toBeLessThanOrEqual(Date.now());
  expect(mail.text).toMatch(new RegExp(`^IP: +${context.ip!.replace(/\./g, "\\.")}$`, "m"));
  expect(mail.text).toMatch(new RegExp(`^Browser: +${browser}$`, "m"));
  expect(mail.text).toMatch(/^If it was not you: .*(password|administrator)/m);
}

describe.each(testDrivers())("security notices by mail on %s", (driver) => {
  const t = useTestDatabase(driver);
  const enrolled = async () => {
    const user = await enrolledUser(t.db);
    keepSecrets(user);
    return user;
  };

  it("2FA enabled (My Settings and the forced enrollment both confirm through confirmEnrollment)", async () => {
    const user = await newUser(t.db);
    const since = new Date();
    const started = await startEnrollment(t.db, user);
    if (!started.ok) throw new Error(started.error);
    const confirmed = await confirmEnrollment(t.db, user.id, code(codeAt(started.secret)), CHROME_ON_LINUX);
    if (!confirmed.ok) throw new Error(confirmed.error);
    keepSecrets({ secret: started.secret, recoveryCodes: confirmed.recoveryCodes });
    const mail = await theMail(user.email, "Two-factor authentication was turned on");
    expectNotice(mail, user, CHROME_ON_LINUX, "Chrome on Linux", since, /Two-factor authentication was turned on for your account/);
  });

  it("2FA disabled by the user", async () => {
    const user = await enrolled();
    const since = new Date();
    expect(await disableTwoFactor(t.db, user.id, code(codeAt(user.secret)), FIREFOX_ON_WINDOWS)).toBe("ok");
    const mail = await theMail(user.email, SUBJECTS.two_factor_disabled);
    expectNotice(mail, user, FIREFOX_ON_WINDOWS, "Firefox on Windows", since, /turned off for your account/);
    expect(mail.text).toMatch(/If it was not you: .*Change your password/);
  });

  it("2FA removed by an admin: to the address the user had, even when the same edit changes it", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await enrolled();
    const since = new Date();
    const input = { name: user.name, email: `moved-${user.email}`, admin: false, twoFactorEnabled: false };
    expect(await updateUserProperties(t.db, admin.id, user.id, input, CHROME_ON_LINUX)).toEqual({ ok: true });
    const mail = await theMail(user.email, SUBJECTS.two_factor_removed);
    expectNotice(mail, user, CHROME_ON_LINUX, "Chrome on Linux", since, /An administrator removed two-factor authentication/);
    expect(mail.text).toMatch(/If it was not you: .*contact your administrator/);
    expect(sink.messages.filter((m) => m.rcptTo.includes(input.email))).toEqual([]);
  });

  it("no removal notice when the admin unticks 2FA for a user who only owed an enrollment", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await newUser(t.db);
    const properties = { name: user.name, email: user.email, admin: false };
    await updateUserProperties(t.db, admin.id, user.id, { ...properties, twoFactorEnabled: true }, CHROME_ON_LINUX);
    await updateUserProperties(t.db, admin.id, user.id, { ...properties, twoFactorEnabled: false }, CHROME_ON_LINUX);
    expect(sink.messages.filter((m) => m.rcptTo.includes(user.email))).toEqual([]);
  });

  it("recovery codes regenerated", async () => {
    const user = await enrolled();
    const since = new Date();
    const result = await regenerateRecoveryCodes(t.db, user.id, code(codeAt(user.secret)), CHROME_ON_LINUX);
    if (!result.ok) throw new Error(result.error);
    keepSecrets({ recoveryCodes: result.recoveryCodes });
    const mail = await theMail(user.email, SUBJECTS.recovery_codes_regenerated);
    expectNotice(mail, user, CHROME_ON_LINUX, "Chrome on Linux", since, /New recovery codes were generated.*previous codes no longer work/);
  });

  it("a recovery code used to sign in, with the number of codes left", async () => {
    const user = await enrolled();
    const since = new Date();
    const challenge = await openChallenge(t.db, user);
    expect((await completeSignIn(t.db, { challenge, method: "recovery", code: user.recoveryCodes[3] }, FIREFOX_ON_WINDOWS)).ok).toBe(true);
    const mail = await theMail(user.email, SUBJECTS.recovery_code_used);
    expectNotice(mail, user, FIREFOX_ON_WINDOWS, "Firefox on Windows", since, /A recovery code was used to sign in/);
    expect(mail.text).toContain("You have 9 recovery codes left.");
  });

  it("the last recovery codes: the count, and a nudge to generate new ones", async () => {
    const user = await enrolled();
    for (const [i, recovery] of user.recoveryCodes.slice(0, 9).entries()) {
      expect((await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "recovery", code: recovery }, CHROME_ON_LINUX)).ok, `code ${i}`).toBe(true);
    }
    const mails = await sink.waitFor(9, (m) => m.rcptTo.includes(user.email) && m.subject === SUBJECTS.recovery_code_used);
    expect(mails.map((m) => /You have (\d+) recovery codes? left/.exec(m.text)?.[1])).toEqual(["9", "8", "7", "6", "5", "4", "3", "2", "1"]);
    expect(mails.at(-1)!.text).toContain("You have 1 recovery code left. Generate a new set in My Settings → Recovery codes.");
    expect(mails[0].text).not.toContain("Generate a new set");
  });

  it("a correct password followed by a wrong code: the code was refused, what to do", async () => {
    const user = await enrolled();
    const since = new Date();
    const challenge = await openChallenge(t.db, user);
    const result = await completeSignIn(t.db, { challenge, method: "totp", code: code(wrongCode(user.secret)) }, FIREFOX_ON_WINDOWS);
    expect(result).toEqual({ ok: false, error: "code_invalid" });
    const mail = await theMail(user.email, SUBJECTS.code_refused);
    expectNotice(mail, user, FIREFOX_ON_WINDOWS, "Firefox on Windows", since, /password was entered correctly.*wrong, and it was refused/);
    expect(mail.text).toMatch(/If it was not you: someone knows your password.*Change your password now/);
  });

  it("a new trusted browser, and nothing for a plain code sign-in (its single statement stays alone)", async () => {
    await getSettings(t.db);
    await t.db.update(instanceSettings).set({ trustBrowserEnabled: true, trustBrowserDays: 14 }).where(eq(instanceSettings.id, 1));
    try {
      const user = await enrolled();
      const before = sink.messages.length;
      const plain = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "totp", code: code(codeAt(user.secret)) }, CHROME_ON_LINUX);
      expect(plain).toMatchObject({ ok: true, trustToken: undefined });
      expect(sink.messages.slice(before)).toEqual([]);

      await rewindLastUsedStep(t.db, user.id);
      const since = new Date();
      const challenge = await openChallenge(t.db, user);
      const trusted = await completeSignIn(t.db, { challenge, method: "totp", code: code(codeAt(user.secret)), trust: true }, CHROME_ON_LINUX);
      if (!trusted.ok || !trusted.trustToken) throw new Error("no trust token");
      secrets.long.add(trusted.trustToken);
      const mail = await theMail(user.email, SUBJECTS.browser_trusted);
      expectNotice(mail, user, CHROME_ON_LINUX, "Chrome on Linux", since, /A browser was marked as trusted at sign-in: for up to 14 days/);
    } finally {
      await t.db.update(instanceSettings).set({ trustBrowserEnabled: false, trustBrowserDays: 30 }).where(eq(instanceSettings.id, 1));
    }
  });

  it("no mail holds a code, a setup key, a recovery code or a token", async () => {
    const mails = sink.messages;
    expect(new Set(mails.map((m) => m.subject)).size, "all seven kinds were sent above").toBe(7);
    expect(secrets.long.size).toBeGreaterThan(20);
    for (const mail of mails) {
      const raw = mail.raw.toLowerCase();
      expect([...secrets.long].filter((s) => raw.includes(s.toLowerCase())), mail.subject).toEqual([]);
      // Six-digit codes are searched in what a person reads: a Message-ID may hold any digits.
      const readable = `${mail.subject}\n${mail.text}`;
      expect([...secrets.codes].filter((c) => readable.includes(c)), mail.subject).toEqual([]);
      expect(mail.text).not.toMatch(/https?:\/\//);
    }
  });
});
