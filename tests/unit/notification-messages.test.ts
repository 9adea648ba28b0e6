import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_MAIL_FROM, mailSettings } from "@/lib/env";
import { buildMail, COMMAND_LINE, plainLine, SUBJECTS, utc, type Notice } from "@/lib/notifications/messages";
import { describeBrowser } from "@/lib/two-factor/trusted-browsers";

const AT = new Date("2026-03-04T05:06:07.890Z");
const OCCURRENCE = { at: AT, ip: "203.0.113.9", userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15" };
const NOTICES: Notice[] = [
  { kind: "two_factor_enabled" },
  { kind: "two_factor_disabled" },
  { kind: "two_factor_removed", by: "admin" },
  { kind: "two_factor_removed", by: "cli" },
  { kind: "recovery_codes_regenerated" },
  { kind: "recovery_code_used", codesLeft: 0 },
  { kind: "code_refused", locked: true },
  { kind: "browser_trusted", days: 1 },
  { kind: "instance_two_factor_off", by: "Ada" },
  { kind: "administrator_added", by: "Ada", name: "Nora", email: "nora@example.test" },
  { kind: "administrator_added", by: null, name: "Nora", email: "nora@example.test" },
  { kind: "password_changed" },
  { kind: "security_key_added", name: "YubiKey 5" },
  { kind: "security_key_removed", name: "YubiKey 5" },
  { kind: "security_key_removed", name: "YubiKey 5", by: "Ada" },
  { kind: "email_changed", by: "Ada", to: "new@example.test" },
  { kind: "role_changed", by: "Ada", admin: true },
  { kind: "role_changed", by: null, admin: false },
];

describe("security notice texts", () => {
  it.each(NOTICES)("$kind: a fixed subject, when in UTC, where from, and what to do if it was not you", (notice) => {
    const fromCli = ("by" in notice && notice.by === null) || (notice.kind === "two_factor_removed" && notice.by === "cli");
    const mail = buildMail(notice, "Ada", fromCli ? { at: AT, ...COMMAND_LINE } : OCCURRENCE);
    expect(mail.subject).toBe(SUBJECTS[notice.kind]);
    expect(mail.text).toContain("When:    2026-03-04 05:06:07 UTC");
    if (fromCli) expect(mail.text).toContain("From:    the server itself (command line)");
    else expect(mail.text).toContain("IP:      203.0.113.9\nBrowser: Safari on macOS");
    if ("by" in notice && notice.by !== "admin" && notice.by !== "cli") {
      expect(mail.text).toContain(notice.by === null ? "An administrator on the server's command line " : "The administrator Ada ");
    }
    expect(mail.text).toMatch(/^If it was not you: \S/m);
    expect(mail.text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });

  it("counts, singular and plural, and says when a lock followed", () => {
    expect(buildMail({ kind: "recovery_code_used", codesLeft: 0 }, "A", OCCURRENCE).text).toContain("You have 0 recovery codes left. Generate a new set");
    expect(buildMail({ kind: "recovery_code_used", codesLeft: 7 }, "A", OCCURRENCE).text).toContain("You have 7 recovery codes left.\n");
    expect(buildMail({ kind: "browser_trusted", days: 1 }, "A", OCCURRENCE).text).toContain("for up to 1 day it may");
    expect(buildMail({ kind: "code_refused", locked: true }, "A", OCCURRENCE).text).toContain("now locked");
    expect(buildMail({ kind: "code_refused", locked: false }, "A", OCCURRENCE).text).not.toContain("locked");
  });

  it("keeps what came from outside on one short line", () => {
    expect(plainLine("Eve\r\nBcc: x@y\u2028z", 100)).toBe("Eve  Bcc: x@y z");
    expect(plainLine("x".repeat(500), 100)).toHaveLength(100);
    const mail = buildMail({ kind: "two_factor_enabled" }, "A", { ...OCCURRENCE, ip: "1.2.3.4\r\nEvil: yes" });
    expect(mail.text).toContain("IP:      1.2.3.4  Evil: yes\n");
    expect(utc(new Date(0))).toBe("1970-01-01 00:00:00 UTC");
    const added = buildMail({ kind: "administrator_added", by: "Eve\r\nBcc: x@y", name: "N\nX", email: "n@example.test" }, "A", OCCURRENCE);
    expect(added.text).toContain("The administrator Eve  Bcc: x@y made N X (n@example.test) an administrator.");
    const moved = buildMail({ kind: "email_changed", by: "Ada", to: "x@y\r\nBcc: z@w" }, "A", OCCURRENCE);
    expect(moved.text).toContain("to x@y  Bcc: z@w.");
  });

  it("reads a hostile user agent in linear time", () => {
    const started = performance.now();
    expect(describeBrowser("Chrom".repeat(200_000) + "(".repeat(200_000))).toBe("A browser on an unknown system");
    expect(describeBrowser(null)).toBe("A browser on an unknown system");
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe("SMTP_URL and MAIL_FROM", () => {
  const saved = { url: process.env.SMTP_URL, from: process.env.MAIL_FROM };
  afterEach(() => {
    process.env.SMTP_URL = saved.url ?? "";
    process.env.MAIL_FROM = saved.from ?? "";
  });
  const settingsWith = (url: string, from = "") => {
    process.env.SMTP_URL = url;
    process.env.MAIL_FROM = from;
    return mailSettings();
  };

  it("is off when SMTP_URL is unset or blank", () => {
    expect(settingsWith("")).toBeNull();
    expect(settingsWith("   ")).toBeNull();
  });

  it("accepts smtp:// and smtps:// with a sensible default sender", () => {
    expect(settingsWith("smtp://user:p%40ss@mail.example.com:587")).toEqual({ smtpUrl: "smtp://user:p%40ss@mail.example.com:587", from: DEFAULT_MAIL_FROM });
    expect(settingsWith("smtps://mail.example.com", "Sign-in <no-reply@example.com>")?.from).toBe("Sign-in <no-reply@example.com>");
    expect(settingsWith("smtp://mail.example.com", "no-reply@example.com")?.from).toBe("no-reply@example.com");
  });

  it.each(["mail.example.com:587", "http://mail.example.com", "smtp://", "smtp://[::1"])("refuses SMTP_URL=%s, naming the variable", (url) => {
    expect(() => settingsWith(url)).toThrow(/^SMTP_URL /);
  });

  it.each(["nobody", "A <a@b>\r\nBcc: c@d", "Name <not an address>", `${"x".repeat(400)}@example.com`])("refuses MAIL_FROM=%j, naming the variable", (from) => {
    expect(() => settingsWith("smtp://mail.example.com", from)).toThrow(/^MAIL_FROM /);
  });
});
