import { describe, expect, it } from "vitest";
import {
  fieldErrors,
  instanceSecuritySchema,
  newUserSchema,
  passwordChangeSchema,
  passwordStepSchema,
  recoveryStepSchema,
  setupSchema,
  totpStepSchema,
} from "@/lib/validation/forms";
import { MESSAGES, passwordContainsMessage, passwordLengthMessage } from "@/lib/validation/messages";
import { auditFiltersSchema } from "@/lib/validation/audit-filters";
import { nodeSafeLocation } from "@/lib/validation/location-header";
import { parseUserSearch } from "@/lib/validation/user-search";

const TEN_KB = "1".repeat(10 * 1024);
const file = () => new File(["123456"], "code.txt", { type: "text/plain" });

/** The messages a form would show for `input`, by field. */
function errorsOf(schema: { safeParse(input: unknown): { success: boolean; error?: unknown } }, input: unknown) {
  const result = schema.safeParse(input);
  expect(result.success).toBe(false);
  return fieldErrors(result.error as Parameters<typeof fieldErrors>[0]);
}

describe("TOTP code field", () => {
  it("accepts six ASCII digits", () => {
    expect(totpStepSchema.parse({ code: "012345" })).toEqual({ code: "012345" });
  });

  it.each([["123 456"], [" 123456 "], ["12 34 56"], ["123\u00a0456"]])("accepts %j typed with spaces, as six digits", (code) => {
    expect(totpStepSchema.parse({ code })).toEqual({ code: code.replace(/\D/g, "") });
  });

  it.each([
    ["Arabic-Indic digits", "١٢٣٤٥٦"],
    ["Devanagari digits", "१२३४५६"],
    ["full-width digits", "１２３４５６"],
    ["five digits", "12345"],
    ["seven digits", "1234567"],
    ["letters", "12345a"],
    ["a sign", "+12345"],
    ["dashes", "123-456"],
    ["empty", ""],
    ["10 KB", TEN_KB],
  ])("refuses %s with the code-format message", (_what, code) => {
    expect(errorsOf(totpStepSchema, { code }).code).toEqual([MESSAGES.codeFormat]);
  });

  it.each([
    ["missing", {}],
    ["an array (the field posted twice)", { code: ["123456", "654321"] }],
    ["a File", { code: file() }],
    ["a number", { code: 123456 }],
    ["null", { code: null }],
  ])("refuses a code that is %s with the code-format message, without throwing", (_what, input) => {
    expect(() => totpStepSchema.safeParse(input)).not.toThrow();
    expect(errorsOf(totpStepSchema, input).code).toEqual([MESSAGES.codeFormat]);
  });

  it("drops forged extra fields such as userId or role", () => {
    const parsed = totpStepSchema.parse({ code: "123456", userId: "someone-else", role: "admin", challenge: "x" });
    expect(parsed).toEqual({ code: "123456" });
  });
});

describe("recovery code field", () => {
  it("passes a typed code through for server-side normalisation", () => {
    expect(recoveryStepSchema.parse({ code: "ABCD efgh-jkmn-pqrs" })).toEqual({ code: "ABCD efgh-jkmn-pqrs" });
  });

  it.each([
    ["empty", { code: "" }],
    ["missing", {}],
    ["10 KB", { code: TEN_KB }],
    ["an array", { code: ["abcd-efgh-jkmn-pqrs"] }],
    ["a File", { code: file() }],
  ])("refuses a code that is %s with the recovery-format message", (_what, input) => {
    expect(errorsOf(recoveryStepSchema, input).code).toEqual([MESSAGES.recoveryCodeFormat]);
  });
});

describe("password step form", () => {
  it("trims and lower-cases the email", () => {
    expect(passwordStepSchema.parse({ email: "  Alice@Example.TEST ", password: "pw" })).toEqual({
      email: "alice@example.test",
      password: "pw",
    });
  });

  it("keeps the password exactly as typed (no trimming)", () => {
    expect(passwordStepSchema.parse({ email: "a@example.test", password: "  pw  " }).password).toBe("  pw  ");
  });

  it.each([
    ["not an email", "alice"],
    ["empty", ""],
    ["10 KB", `${"a".repeat(10 * 1024)}@example.test`],
  ])("refuses an email that is %s with the email message", (_what, email) => {
    expect(errorsOf(passwordStepSchema, { email, password: "pw" }).email).toEqual([MESSAGES.emailFormat]);
  });

  it.each([
    ["missing", { email: "a@example.test" }],
    ["empty", { email: "a@example.test", password: "" }],
    ["10 KB", { email: "a@example.test", password: "p".repeat(10 * 1024) }],
    ["an array", { email: "a@example.test", password: ["pw", "pw2"] }],
    ["a File", { email: "a@example.test", password: file() }],
  ])("refuses a password that is %s with the password message", (_what, input) => {
    expect(errorsOf(passwordStepSchema, input).password).toEqual([MESSAGES.passwordRequired]);
  });

  it("reports every field at once", () => {
    const errors = errorsOf(passwordStepSchema, {});
    expect(errors.email).toEqual([MESSAGES.emailFormat]);
    expect(errors.password).toEqual([MESSAGES.passwordRequired]);
  });

  it("refuses a 10 KB callbackUrl", () => {
    expect(passwordStepSchema.safeParse({ email: "a@example.test", password: "pw", callbackUrl: "/".repeat(10 * 1024) }).success).toBe(
      false,
    );
  });

  it("drops forged extra fields such as userId, role or secondFactorDue", () => {
    const parsed = passwordStepSchema.parse({
      email: "a@example.test",
      password: "pw",
      userId: "x",
      role: "admin",
      secondFactorDue: "false",
    });
    expect(Object.keys(parsed).sort()).toEqual(["email", "password"]);
  });
});

describe("new user form", () => {
  // A strong password of the default minimum length (15) or more, in none of the common lists.
  const valid = { name: " Alice ", email: "Alice@Example.test", password: "velvet quartz harbour" };
  const parse = async (input: unknown) => {
    const result = await newUserSchema.safeParseAsync(input);
    if (!result.success) throw new Error(JSON.stringify(fieldErrors(result.error)));
    return result.data;
  };
  const errorsOf = async (input: unknown) => {
    const result = await newUserSchema.safeParseAsync(input);
    expect(result.success).toBe(false);
    return fieldErrors(result.error!);
  };

  it("trims the name, lower-cases the email and reads an absent checkbox as false", async () => {
    expect(await parse(valid)).toEqual({ name: "Alice", email: "alice@example.test", password: "velvet quartz harbour", admin: false });
  });

  it("reads an unticked checkbox as false whether the key is absent (Object.fromEntries) or undefined", async () => {
    expect((await parse({ ...valid })).admin).toBe(false);
    expect((await parse({ ...valid, admin: undefined })).admin).toBe(false);
  });

  it("reads a ticked checkbox as true", async () => {
    expect((await parse({ ...valid, admin: "on" })).admin).toBe(true);
  });

  it("refuses a checkbox value a form cannot send", async () => {
    expect((await newUserSchema.safeParseAsync({ ...valid, admin: "yes" })).success).toBe(false);
    expect((await newUserSchema.safeParseAsync({ ...valid, admin: ["on", "on"] })).success).toBe(false);
  });

  it.each([
    ["14 characters", "velvet quartz "],
    ["129 characters", "p".repeat(129)],
    ["10 KB", "p".repeat(10 * 1024)],
    ["a File", file()],
  ])("refuses a password of %s with the length message, and only that", async (_what, password) => {
    expect((await errorsOf({ ...valid, password })).password).toEqual([passwordLengthMessage(15, 128)]);
  });

  it.each([
    ["a common one", "Password1234567", MESSAGES.passwordTooCommon],
    ["the email in it", "xx alice@example.test xx", passwordContainsMessage("the user's email address")],
    ["a surname in it", "velvet Lovelace harbour", passwordContainsMessage("the user's name"), { name: "Ada Lovelace" }],
    ["the name in it", "velvet harbour ALICE", passwordContainsMessage("the user's email address")], // "alice" is both: the email is named
  ])("refuses a password with %s, saying why", async (_what, password, message, more?: { name: string }) => {
    expect((await errorsOf({ ...valid, ...more, password })).password).toEqual([message]);
  });

  it.each([
    ["blank", "   "],
    ["10 KB", "n".repeat(10 * 1024)],
    ["a File", file()],
  ])("refuses a name that is %s with the name message", async (_what, name) => {
    expect((await errorsOf({ ...valid, name })).name).toEqual([MESSAGES.nameRequired]);
  });

  it.each([
    ["a NUL (PostgreSQL cannot store it: the INSERT failed with a 500)", "Ada\u0000"],
    ["a lone NUL", "\u0000"],
    ["an escape sequence", "\u001b[2JAda"],
    ["a tab inside", "Ada\tLovelace"],
    ["DEL", "Ada\u007f"],
  ])("refuses a name with %s", async (_what, name) => {
    expect((await errorsOf({ ...valid, name })).name).toEqual([MESSAGES.nameInvalid]);
  });

  it("keeps names in any script, with punctuation and emoji", async () => {
    for (const name of ["Ada Lovelace", "Zoë O'Brien-Smith", "山田 太郎", "أحمد", "Ada 🙂", "<b>Ada</b>"]) {
      expect((await parse({ ...valid, name })).name).toBe(name);
    }
  });

  it("drops a forged role field: only the admin checkbox decides", async () => {
    const parsed = await parse({ ...valid, role: "admin", sessionVersion: "0" });
    expect(parsed).not.toHaveProperty("role");
    expect(parsed).not.toHaveProperty("sessionVersion");
    expect(parsed.admin).toBe(false);
  });
});

describe("setup form", () => {
  const valid = { token: "t", name: "Admin", email: "admin@example.test", password: "velvet quartz harbour" };

  it("accepts a complete form", async () => {
    expect(await setupSchema.parseAsync(valid)).toEqual(valid);
  });

  it("refuses an over-long token", async () => {
    expect((await setupSchema.safeParseAsync({ ...valid, token: "t".repeat(201) })).success).toBe(false);
  });

  it("drops a forged admin or role field", async () => {
    expect(await setupSchema.parseAsync({ ...valid, role: "user", admin: "on" })).toEqual(valid);
  });

  it("refuses the administrator's own email in the password, saying so", async () => {
    const result = await setupSchema.safeParseAsync({ ...valid, password: "admin@example.test!" });
    expect(fieldErrors(result.error!).password).toEqual([passwordContainsMessage("your email address")]);
  });
});

describe("change password form", () => {
  const schema = passwordChangeSchema({ name: "Grace Hopper", email: "grace@example.test" });

  it("accepts a strong new password", async () => {
    expect((await schema.safeParseAsync({ currentPassword: "x", newPassword: "velvet quartz harbour" })).success).toBe(true);
  });

  it("judges the new password against the signed-in user, not against anything in the form", async () => {
    const result = await schema.safeParseAsync({ currentPassword: "x", newPassword: "hopper velvet quartz", name: "Someone Else" });
    expect(fieldErrors(result.error!).newPassword).toEqual([passwordContainsMessage("your name")]);
  });
});

describe("instance security form", () => {
  const rest = { trustBrowserDays: "30", requireTwoFactorFor: "nobody", requireGraceDays: "0" };
  const parsedRest = { trustBrowserEnabled: false, passkeySignInEnabled: false, requireSecurityKeyForAdmins: false, trustBrowserDays: 30, requireTwoFactorFor: "nobody", requireGraceDays: 0 };

  it("reads the checkboxes: ticked is 'on', unticked is absent", () => {
    expect(instanceSecuritySchema.parse({ twoFactorEnabled: "on", ...rest })).toEqual({ twoFactorEnabled: true, ...parsedRest });
    expect(instanceSecuritySchema.parse({ ...rest })).toEqual({ twoFactorEnabled: false, ...parsedRest });
    expect(instanceSecuritySchema.safeParse({ twoFactorEnabled: "off", ...rest }).success).toBe(false);
    expect(instanceSecuritySchema.parse({ ...rest, passkeySignInEnabled: "on" })).toEqual({ twoFactorEnabled: false, ...parsedRest, passkeySignInEnabled: true });
    expect(instanceSecuritySchema.parse({ ...rest, requireSecurityKeyForAdmins: "on" })).toEqual({ twoFactorEnabled: false, ...parsedRest, requireSecurityKeyForAdmins: true });
  });

  it("keeps the trust days within 1–90 and the grace period within 0–90", () => {
    for (const days of ["0", "91", "7.5", "abc", ""]) {
      expect(instanceSecuritySchema.safeParse({ ...rest, trustBrowserDays: days }).success, days).toBe(false);
    }
    expect(instanceSecuritySchema.safeParse({ ...rest, requireGraceDays: "-1" }).success).toBe(false);
    expect(instanceSecuritySchema.safeParse({ ...rest, requireGraceDays: "90" }).success).toBe(true);
  });

  it("accepts only the three enforcement scopes", () => {
    expect(instanceSecuritySchema.safeParse({ ...rest, requireTwoFactorFor: "admins" }).success).toBe(true);
    expect(instanceSecuritySchema.safeParse({ ...rest, requireTwoFactorFor: "root" }).success).toBe(false);
  });
});

describe("text that reaches PostgreSQL from a URL", () => {
  it("drops an audit-log user filter with a NUL or control character (it used to fail the query: a 500)", () => {
    expect(auditFiltersSchema.parse({ user: "a\u0000@example.test" }).user).toBeUndefined();
    expect(auditFiltersSchema.parse({ user: "a\u0001" }).user).toBeUndefined();
    expect(auditFiltersSchema.parse({ user: " Ada@Example.test " }).user).toBe("ada@example.test");
  });

  it("drops a Users search with a NUL or control character, keeps ordinary ones", () => {
    expect(parseUserSearch({ query: "ada\u0000" }).query).toBe("");
    expect(parseUserSearch({ query: "\u001b[2J" }).query).toBe("");
    expect(parseUserSearch({ query: " 山田 % _ " }).query).toBe("山田 % _");
  });
});

describe("redirect Location header", () => {
  it("percent-encodes what Node's HTTP server refuses (control characters) and non-ASCII, keeps the rest", () => {
    expect(nodeSafeLocation("/login?error=\u0001")).toBe("/login?error=%01");
    expect(nodeSafeLocation("/login?error=\u007f")).toBe("/login?error=%7F");
    expect(nodeSafeLocation("/login?error=\u00e9 x")).toBe("/login?error=%C3%A9%20x");
    expect(nodeSafeLocation("http://localhost:3000/login?error=Configuration&code=a%20b")).toBe(
      "http://localhost:3000/login?error=Configuration&code=a%20b",
    );
  });
});
