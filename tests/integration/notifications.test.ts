import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { instanceSettings, sessions, users } from "@/db/schema";
import type { RequestContext } from "@/lib/audit";
import { changePassword } from "@/lib/account/password";
import { confirmAdmin } from "@/lib/admin/step-up";
import { removeSecurityKey } from "@/lib/security-keys/manage";
import { finishKeyRegistration, startKeyRegistration } from "@/lib/security-keys/registration";
import { addUser } from "@/lib/admin/add-user";
import { saveSecuritySettings } from "@/lib/admin/security-settings";
import { updateUserProperties } from "@/lib/admin/user-properties";
import { completeSignIn } from "@/lib/auth/second-step";
import { SUBJECTS } from "@/lib/notifications/messages";
import { getSettings } from "@/lib/settings";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { disableTwoFactor, regenerateRecoveryCodes } from "@/lib/two-factor/manage";
import { startSmtpSink, type ReceivedMail, type SmtpSink } from "../support/smtp-sink";
import { runAsTestRelyingParty, softwareKey } from "./support/software-key";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, confirmedSession, enrolledUser, newSession, newUser, openChallenge, PASSWORD, rewindLastUsedStep, type TestUser, wrongCode } from "./support/fixtures";

/**
 * Each of the security notices, through the lib function the action
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

runAsTestRelyingParty();

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
    expect(await disableTwoFactor(t.db, user.id, code(codeAt(user.secret)), FIREFOX_ON_WINDOWS)).toMatchObject({ ok: true });
    const mail = await theMail(user.email, SUBJECTS.two_factor_disabled);
    expectNotice(mail, user, FIREFOX_ON_WINDOWS, "Firefox on Windows", since, /turned off for your account/);
    expect(mail.text).toMatch(/If it was not you: .*Change your password/);
  });

  it("2FA removed by an admin: to the address the user had, even when the same edit changes it", async () => {
    const session = await confirmedSession(t.db, await newUser(t.db, { admin: true }));
    const user = await enrolled();
    const since = new Date();
    const input = { name: user.name, email: `moved-${user.email}`, admin: false, twoFactorEnabled: false };
    expect(await updateUserProperties(t.db, session, user.id, input, CHROME_ON_LINUX)).toEqual({ ok: true });
    const mail = await theMail(user.email, SUBJECTS.two_factor_removed);
    expectNotice(mail, user, CHROME_ON_LINUX, "Chrome on Linux", since, /An administrator removed two-factor authentication/);
    expect(mail.text).toMatch(/If it was not you: .*contact your administrator/);
    expect(sink.messages.filter((m) => m.rcptTo.includes(input.email))).toEqual([]);
  });

  it("no removal notice when the admin unticks 2FA for a user who only owed an enrollment", async () => {
    const session = await confirmedSession(t.db, await newUser(t.db, { admin: true }));
    const user = await newUser(t.db);
    const properties = { name: user.name, email: user.email, admin: false };
    await updateUserProperties(t.db, session, user.id, { ...properties, twoFactorEnabled: true }, CHROME_ON_LINUX);
    await updateUserProperties(t.db, session, user.id, { ...properties, twoFactorEnabled: false }, CHROME_ON_LINUX);
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

  /** Every administrator gets exactly one mail with this subject, sent after `from` (an index into the sink). */
  const everyAdministratorMailed = async (from: number, subject: string) => {
    const admins = await t.db.select({ name: users.name, email: users.email }).from(users).where(eq(users.role, "admin"));
    expect(admins.length).toBeGreaterThan(1);
    const mails = sink.messages.slice(from).filter((m) => m.subject === subject);
    expect(mails.map((m) => m.rcptTo[0]).sort()).toEqual(admins.map((a) => a.email).sort());
    return mails.map((mail) => ({ mail, admin: admins.find((a) => mail.rcptTo[0] === a.email)! }));
  };

  it("two-factor login turned off for the instance: every administrator is mailed, who did it and from where; not when it is turned on", async () => {
    const actor = await newUser(t.db, { admin: true });
    await newUser(t.db, { admin: true });
    const plain = await newUser(t.db);
    const session = await confirmedSession(t.db, actor);
    const settings = { twoFactorEnabled: false, trustBrowserEnabled: false, trustBrowserDays: 30, requireTwoFactorFor: "nobody", requireGraceDays: 0 } as const;
    const from = sink.messages.length;
    const since = new Date();
    expect(await saveSecuritySettings(t.db, session, settings, FIREFOX_ON_WINDOWS)).toEqual({ ok: true });
    for (const { mail, admin } of await everyAdministratorMailed(from, SUBJECTS.instance_two_factor_off)) {
      expectNotice(mail, { id: "", password: "", ...admin }, FIREFOX_ON_WINDOWS, "Firefox on Windows", since, new RegExp(`The administrator ${actor.name} turned two-factor login off for the whole instance`));
    }
    expect(sink.messages.filter((m) => m.rcptTo.includes(plain.email))).toEqual([]);
    const afterOff = sink.messages.length;
    expect(await saveSecuritySettings(t.db, session, { ...settings, twoFactorEnabled: true }, FIREFOX_ON_WINDOWS)).toEqual({ ok: true });
    expect(sink.messages.length).toBe(afterOff);
  });

  it("an administrator added (Add user, or promoted in User properties): every administrator is mailed; not for a plain user or a refused save", async () => {
    const actor = await newUser(t.db, { admin: true });
    const session = await confirmedSession(t.db, actor);
    let from = sink.messages.length;
    const since = new Date();
    const added = { name: "Nora New", email: "nora-new@example.test", password: "a long password for nora", admin: true };
    expect(await addUser(t.db, session, added, CHROME_ON_LINUX)).toMatchObject({ ok: true });
    secrets.long.add(added.password);
    for (const { mail, admin } of await everyAdministratorMailed(from, SUBJECTS.administrator_added)) {
      expectNotice(mail, { id: "", password: "", ...admin }, CHROME_ON_LINUX, "Chrome on Linux", since, new RegExp(`The administrator ${actor.name} made Nora New \\(nora-new@example.test\\) an administrator`));
    }

    from = sink.messages.length;
    const plain = await newUser(t.db);
    expect(await addUser(t.db, session, { name: "Pat Plain", email: "pat@example.test", password: PASSWORD, admin: false }, CHROME_ON_LINUX)).toMatchObject({ ok: true });
    expect(await addUser(t.db, newSession(actor), { name: "Mallory", email: "mallory@example.test", password: PASSWORD, admin: true }, CHROME_ON_LINUX)).toMatchObject({ ok: false });
    expect(sink.messages.slice(from)).toEqual([]);
    const promoted = { name: plain.name, email: plain.email, admin: true, twoFactorEnabled: false };
    expect(await updateUserProperties(t.db, session, plain.id, promoted, CHROME_ON_LINUX)).toEqual({ ok: true });
    const mails = await everyAdministratorMailed(from, SUBJECTS.administrator_added);
    expect(mails[0].mail.text).toContain(`made ${plain.name} (${plain.email}) an administrator`);
  });

  it("password changed in My Settings: the owner is told their other sessions ended", async () => {
    const user = await newUser(t.db);
    const since = new Date();
    const changed = await changePassword(t.db, user.id, PASSWORD, "a brand new passphrase for the mail test", CHROME_ON_LINUX);
    expect(changed).toMatchObject({ ok: true });
    secrets.long.add("a brand new passphrase for the mail test");
    const mail = await theMail(user.email, SUBJECTS.password_changed);
    expectNotice(mail, user, CHROME_ON_LINUX, "Chrome on Linux", since, /password of your account was changed.*\n.*other session of your account was signed out/);
    expect(mail.text).toMatch(/If it was not you: .*Contact your administrator now/);
  });

  it("a wrong current password changes nothing and mails nothing", async () => {
    const user = await newUser(t.db);
    expect(await changePassword(t.db, user.id, "not the password at all", "another brand new passphrase", CHROME_ON_LINUX)).not.toMatchObject({ ok: true });
    expect(sink.messages.filter((m) => m.rcptTo.includes(user.email))).toEqual([]);
  });

  it("email changed by an administrator: the old address is told, naming the new one and who changed it; the new address gets nothing", async () => {
    const actor = await newUser(t.db, { admin: true });
    const session = await confirmedSession(t.db, actor);
    const user = await newUser(t.db);
    const since = new Date();
    const input = { name: user.name, email: `new-${user.email}`, admin: false, twoFactorEnabled: false };
    expect(await updateUserProperties(t.db, session, user.id, input, FIREFOX_ON_WINDOWS)).toEqual({ ok: true });
    const mail = await theMail(user.email, SUBJECTS.email_changed);
    expectNotice(mail, user, FIREFOX_ON_WINDOWS, "Firefox on Windows", since, new RegExp(`The administrator ${actor.name} changed the email address of your account to new-${user.email}\\.`));
    expect(sink.messages.filter((m) => m.rcptTo.includes(input.email))).toEqual([]);
    // A name change alone is no security event.
    const from = sink.messages.length;
    expect(await updateUserProperties(t.db, session, user.id, { ...input, name: "Renamed" }, FIREFOX_ON_WINDOWS)).toEqual({ ok: true });
    expect(sink.messages.slice(from)).toEqual([]);
  });

  it("role changed by an administrator: the user is told when made an administrator and when no longer one", async () => {
    const actor = await newUser(t.db, { admin: true });
    const session = await confirmedSession(t.db, actor);
    const user = await newUser(t.db);
    const since = new Date();
    const input = { name: user.name, email: user.email, admin: true, twoFactorEnabled: false };
    expect(await updateUserProperties(t.db, session, user.id, input, CHROME_ON_LINUX)).toEqual({ ok: true });
    const promoted = await theMail(user.email, SUBJECTS.role_changed);
    expectNotice(promoted, user, CHROME_ON_LINUX, "Chrome on Linux", since, new RegExp(`The administrator ${actor.name} made you an administrator\\.`));
    expect(await updateUserProperties(t.db, session, user.id, { ...input, admin: false }, CHROME_ON_LINUX)).toEqual({ ok: true });
    const both = await sink.waitFor(2, (m) => m.rcptTo.includes(user.email) && m.subject === SUBJECTS.role_changed);
    expect(both[1].text).toContain(`The administrator ${actor.name} took away your administrator role.`);
  });

  it("a security key added and removed in My Settings: the owner is told each, with the key's name", async () => {
    const user = await enrolled();
    const session = newSession(user);
    await t.db.insert(sessions).values({ sid: session.sessionId, userId: user.id, sessionVersion: 0, expiresAt: sql`now() + interval '1 hour'` });
    expect(await confirmAdmin(t.db, session, code(codeAt(user.secret)), CHROME_ON_LINUX)).toBe("ok");
    const since = new Date();
    const started = await startKeyRegistration(t.db, session);
    if (!started.ok) throw new Error(started.error);
    const added = await finishKeyRegistration(t.db, session, softwareKey().register(started.options), "Desk key", CHROME_ON_LINUX);
    if (!added.ok) throw new Error(added.error);
    const addedMail = await theMail(user.email, SUBJECTS.security_key_added);
    expectNotice(addedMail, user, CHROME_ON_LINUX, "Chrome on Linux", since, /A security key named "Desk key" was added to your account/);
    expect(await removeSecurityKey(t.db, session, added.id, FIREFOX_ON_WINDOWS)).toEqual({ ok: true, twoFactorOff: null });
    const removedMail = await theMail(user.email, SUBJECTS.security_key_removed);
    expectNotice(removedMail, user, FIREFOX_ON_WINDOWS, "Firefox on Windows", since, /The security key named "Desk key" was removed/);
  });

  it("no mail holds a code, a setup key, a recovery code or a token", async () => {
    const mails = sink.messages;
    expect(new Set(mails.map((m) => m.subject)).size, "all fourteen kinds were sent above").toBe(14);
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
