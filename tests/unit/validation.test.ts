import { describe, expect, it } from "vitest";
import {
  fieldErrors,
  instanceSecuritySchema,
  newUserSchema,
  passwordStepSchema,
  recoveryStepSchema,
  setupSchema,
  totpStepSchema,
} from "@/lib/validation/forms";
import { MESSAGES } from "@/lib/validation/messages";
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
  const valid = { name: " Alice ", email: "Alice@Example.test", password: "eight ch" };

  it("trims the name, lower-cases the email and reads an absent checkbox as false", () => {
    expect(newUserSchema.parse(valid)).toEqual({ name: "Alice", email: "alice@example.test", password: "eight ch", admin: false });
  });

  it("reads an unticked checkbox as false whether the key is absent (Object.fromEntries) or undefined", () => {
    expect(newUserSchema.parse({ ...valid }).admin).toBe(false);
    expect(newUserSchema.parse({ ...valid, admin: undefined }).admin).toBe(false);
  });

  it("reads a ticked checkbox as true", () => {
    expect(newUserSchema.parse({ ...valid, admin: "on" }).admin).toBe(true);
  });

  it("refuses a checkbox value a form cannot send", () => {
    expect(newUserSchema.safeParse({ ...valid, admin: "yes" }).success).toBe(false);
    expect(newUserSchema.safeParse({ ...valid, admin: ["on", "on"] }).success).toBe(false);
  });

  it.each([
    ["7 characters", "seven c"],
    ["129 characters", "p".repeat(129)],
  ])("refuses a password of %s with the length message", (_what, password) => {
    expect(errorsOf(newUserSchema, { ...valid, password }).password).toEqual([MESSAGES.passwordLength]);
  });

  it.each([
    ["blank", "   "],
    ["10 KB", "n".repeat(10 * 1024)],
    ["a File", file()],
  ])("refuses a name that is %s with the name message", (_what, name) => {
    expect(errorsOf(newUserSchema, { ...valid, name }).name).toEqual([MESSAGES.nameRequired]);
  });

  it.each([
    ["a NUL (PostgreSQL cannot store it: the INSERT failed with a 500)", "Ada\u0000"],
    ["a lone NUL", "\u0000"],
    ["an escape sequence", "\u001b[2JAda"],
    ["a tab inside", "Ada\tLovelace"],
    ["DEL", "Ada\u007f"],
  ])("refuses a name with %s", (_what, name) => {
    expect(errorsOf(newUserSchema, { ...valid, name }).name).toEqual([MESSAGES.nameInvalid]);
  });

  it("keeps names in any script, with punctuation and emoji", () => {
    for (const name of ["Ada Lovelace", "Zoë O'Brien-Smith", "山田 太郎", "أحمد", "Ada 🙂", "<b>Ada</b>"]) {
      expect(newUserSchema.parse({ ...valid, name }).name).toBe(name);
    }
  });

  it("drops a forged role field: only the admin checkbox decides", () => {
    const parsed = newUserSchema.parse({ ...valid, role: "admin", sessionVersion: "0" });
    expect(parsed).not.toHaveProperty("role");
    expect(parsed).not.toHaveProperty("sessionVersion");
    expect(parsed.admin).toBe(false);
  });
});

describe("setup form", () => {
  const valid = { token: "t", name: "Admin", email: "admin@example.test", password: "eight ch" };

  it("accepts a complete form", () => {
    expect(setupSchema.parse(valid)).toEqual(valid);
  });

  it("refuses an over-long token", () => {
    expect(setupSchema.safeParse({ ...valid, token: "t".repeat(201) }).success).toBe(false);
  });

  it("drops a forged admin or role field", () => {
    expect(setupSchema.parse({ ...valid, role: "user", admin: "on" })).toEqual(valid);
  });
});

describe("instance security form", () => {
  const rest = { trustBrowserDays: "30", requireTwoFactorFor: "nobody", requireGraceDays: "0" };
  const parsedRest = { trustBrowserEnabled: false, trustBrowserDays: 30, requireTwoFactorFor: "nobody", requireGraceDays: 0 };

  it("reads the checkboxes: ticked is 'on', unticked is absent", () => {
    expect(instanceSecuritySchema.parse({ twoFactorEnabled: "on", ...rest })).toEqual({ twoFactorEnabled: true, ...parsedRest });
    expect(instanceSecuritySchema.parse({ ...rest })).toEqual({ twoFactorEnabled: false, ...parsedRest });
    expect(instanceSecuritySchema.safeParse({ twoFactorEnabled: "off", ...rest }).success).toBe(false);
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
