import { describe, expect, it } from "vitest";
import { fieldErrors, newUserSchema, passwordStepSchema } from "@/lib/validation/forms";
import { MESSAGES, passwordContainsMessage, passwordLengthMessage } from "@/lib/validation/messages";
import { newPasswordProblem, passwordMinLength, type PasswordContext } from "@/lib/validation/password-policy";
import { judgePasswordStrength } from "@/lib/validation/password-strength";

// NIST SP 800-63B-4 §3.1.1.2: length 15 (8 with a second factor for everyone), at least 64 allowed, a blocklist
// of common and context-specific passwords, no composition rules, and only new or changed passwords judged.
const ALICE: PasswordContext = { name: "Alice Liddell", email: "alice.liddell@wonder.example", whose: "your" };
const env = (value: string | undefined) => (value === undefined ? {} : { PASSWORD_MIN_LENGTH: value }) as unknown as NodeJS.ProcessEnv;

describe("the minimum length", () => {
  it("is 15 by default, and PASSWORD_MIN_LENGTH within 8–64 sets it", () => {
    expect(passwordMinLength(env(undefined))).toBe(15);
    expect(passwordMinLength(env(""))).toBe(15);
    expect(passwordMinLength(env("8"))).toBe(8);
    expect(passwordMinLength(env("64"))).toBe(64);
  });

  it("never falls below 8 or rises above 64 through a malformed value (the start-up check names it)", () => {
    for (const value of ["7", "0", "65", "abc", "12.5", "-20"]) expect(passwordMinLength(env(value))).toBe(15);
  });

  it.each([
    [15, 14, false],
    [15, 15, true],
    [8, 7, false],
    [8, 8, true],
    [64, 63, false],
    [64, 64, true],
  ])("with a minimum of %i, %i characters are long enough: %s", async (min, length, longEnough) => {
    const password = "Zq7vMx2pWk9rTb4hNc8sLd3yGf6jHe5u".repeat(2).slice(0, length);
    const problem = await newPasswordProblem(password, ALICE, min);
    if (longEnough) expect(problem).not.toBe(passwordLengthMessage(min, 128));
    else expect(problem).toBe(passwordLengthMessage(min, 128));
  });

  it("with a minimum of 8, zxcvbn still asks for a little more: 8 random characters score 2, 9 score 3", async () => {
    expect(await newPasswordProblem("Qz#8vL!2", ALICE, 8)).toBe(MESSAGES.passwordTooGuessable);
    expect(await newPasswordProblem("Qz#8vL!2k", ALICE, 8)).toBeNull();
  });

  it("allows 128 characters (more than the 64 §3.1.1.2 asks for) and refuses 129", async () => {
    const long = "velvet quartz harbour ".repeat(6);
    expect(await newPasswordProblem(long.slice(0, 128), ALICE, 15)).toBeNull();
    expect(await newPasswordProblem(long.slice(0, 129), ALICE, 15)).toBe(passwordLengthMessage(15, 128));
  });

  it("counts characters, not UTF-16 units: 15 emoji are 15 characters, and 14 are too few", async () => {
    const emoji = ["🦊", "🌵", "🎻", "🚲", "🍋", "🪐", "🧭", "🐙", "🌋", "🎲", "🦉", "🍄", "🛶", "🪁", "🧩"];
    expect(await newPasswordProblem(emoji.join(""), ALICE, 15)).not.toBe(passwordLengthMessage(15, 128));
    expect(await newPasswordProblem(emoji.slice(0, 14).join(""), ALICE, 15)).toBe(passwordLengthMessage(15, 128));
  });

  it("is the running instance's: the schema reads PASSWORD_MIN_LENGTH when it parses", async () => {
    const form = { name: "Bob", email: "bob@example.test", password: "Zq7vMx2pWk" }; // 10 characters
    const before = process.env.PASSWORD_MIN_LENGTH;
    try {
      process.env.PASSWORD_MIN_LENGTH = "10";
      expect((await newUserSchema.safeParseAsync(form)).success).toBe(true);
      process.env.PASSWORD_MIN_LENGTH = "15";
      const refused = await newUserSchema.safeParseAsync(form);
      expect(fieldErrors(refused.error!).password).toEqual([passwordLengthMessage(15, 128)]);
    } finally {
      if (before === undefined) delete process.env.PASSWORD_MIN_LENGTH;
      else process.env.PASSWORD_MIN_LENGTH = before;
    }
  });
});

describe("the blocklist", () => {

  it.each(["Password1234567", "qwertyuiopasdfgh", "iloveyou12345678", "1234567890123456", "aaaaaaaaaaaaaaaa"])(
    "refuses the common or guessable %j",
    async (password) => {
      expect([MESSAGES.passwordTooCommon, MESSAGES.passwordTooGuessable]).toContain(await newPasswordProblem(password, ALICE, 15));
    },
  );

  it("says a password from the common lists is too common", async () => {
    expect(await newPasswordProblem("Password1234567", ALICE, 15)).toBe(MESSAGES.passwordTooCommon);
  });

  it.each([
    ["the whole email", "my alice.liddell@wonder.example", "your email address"],
    ["the email's part before @, in capitals", "ALICE.LIDDELL rides a bike", "your email address"],
    ["the name without its space", "velvet aliceliddell harbour", "your email address"],
    ["the surname alone", "velvet quartz Liddell", "your name"],
    ["the product's name", "my Two-factor sign-in key", "“Two-factor sign-in”"],
    ["the product's name run together", "twofactor velvet quartz", "“twofactor”"],
    ["the word password", "velvet quartz password", "“password”"],
  ])("refuses a password with %s in it, saying which", async (_what, password, what) => {
    expect(await newPasswordProblem(password, ALICE, 15)).toBe(passwordContainsMessage(what));
  });

  it("refuses the instance's own name when TOTP_ISSUER renames it", async () => {
    const before = process.env.TOTP_ISSUER;
    try {
      process.env.TOTP_ISSUER = "Acme Portal";
      expect(await newPasswordProblem("my acmeportal velvet quartz", ALICE, 15)).toBe(passwordContainsMessage("“Acme Portal”"));
    } finally {
      if (before === undefined) delete process.env.TOTP_ISSUER;
      else process.env.TOTP_ISSUER = before;
    }
  });

  it("names whose email it is: the user's, when an administrator sets it", async () => {
    expect(await newPasswordProblem("bob@example.test velvet", { name: "Bob", email: "bob@example.test", whose: "the user's" }, 15)).toBe(
      passwordContainsMessage("the user's email address"),
    );
  });

  it("ignores name parts too short to mean anything (Al, Bo)", async () => {
    expect(await newPasswordProblem("velvet al quartz bo harbour", { name: "Al Bo", email: "x@example.test", whose: "your" }, 15)).toBeNull();
  });

  it("accepts long, unusual passwords and passphrases: no composition rules", async () => {
    for (const password of ["velvet quartz harbour", "correct horse battery staple", "Kq7#vP2mX9!wLr4z", "lowercase words only here please"]) {
      expect(await newPasswordProblem(password, ALICE, 15), password).toBeNull();
    }
  });

  it("gives the meter zxcvbn's score, never above 2 for a refused password", () => {
    expect(judgePasswordStrength("velvet quartz harbour", ALICE)).toEqual({ score: expect.any(Number), problem: null });
    expect(judgePasswordStrength("velvet quartz harbour", ALICE).score).toBeGreaterThanOrEqual(3);
    expect(judgePasswordStrength("alice liddell velvet quartz harbour", ALICE).score).toBeLessThanOrEqual(2);
  });
});

describe("existing passwords", () => {
  it("are never judged at sign-in: a short or common one still passes the password step's schema", () => {
    for (const password of ["pw", "Password1234567", "alice"]) {
      expect(passwordStepSchema.safeParse({ email: "alice.liddell@wonder.example", password }).success).toBe(true);
    }
  });
});
