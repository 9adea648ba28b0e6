import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { auditRetentionDays, environmentProblems, sessionIdleMinutes } from "@/lib/env";

// The start-up check: each bad variable is named in one message, and good or absent ones pass.
const KEY = randomBytes(32).toString("base64");
const env = (values: Record<string, string>) => values as unknown as NodeJS.ProcessEnv;
const GOOD = env({
  DATABASE_URL: "postgres://app:secret@db.example.com:5432/app",
  AUTH_SECRET: "x".repeat(40),
  TOTP_ENCRYPTION_KEY: KEY,
  PORT: "3000",
  DATABASE_POOL_MAX: "10",
  DATABASE_CONNECT_TIMEOUT: "3",
  TRUST_PROXY: "2",
  PASSWORD_MIN_LENGTH: "15",
  SESSION_IDLE_MINUTES: "30",
  AUDIT_RETENTION_DAYS: "730",
});

const problemsWith = (overrides: Record<string, string>) => environmentProblems(env({ ...GOOD, ...overrides } as Record<string, string>));

describe("environmentProblems", () => {
  it("accepts a complete, valid environment, and an empty one (the zero-setup default)", () => {
    expect(environmentProblems(GOOD)).toEqual([]);
    expect(environmentProblems(env({}))).toEqual([]);
  });

  it.each([
    ["DATABASE_URL", "mysql://db/app"],
    ["AUTH_SECRET", "short"],
    ["TOTP_ENCRYPTION_KEY", randomBytes(16).toString("base64")],
    ["PORT", "70000"],
    ["PORT", "３０００"],
    ["DATABASE_POOL_MAX", "0"],
    ["DATABASE_POOL_MAX", "ten"],
    ["DATABASE_CONNECT_TIMEOUT", "0"],
    ["DATABASE_CONNECT_TIMEOUT", "2.5"],
    ["DATABASE_CONNECT_TIMEOUT", "61"],
    ["TRUST_PROXY", "true"],
    ["TRUST_PROXY", "-1"],
    ["TRUST_PROXY", "1.5"],
    ["TRUST_PROXY", "21"],
    ["PASSWORD_MIN_LENGTH", "7"],
    ["PASSWORD_MIN_LENGTH", "65"],
    ["PASSWORD_MIN_LENGTH", "12.5"],
    ["PASSWORD_MIN_LENGTH", "fifteen"],
    ["PASSWORD_MIN_LENGTH", "-8"],
    ["SESSION_IDLE_MINUTES", "0"],
    ["SESSION_IDLE_MINUTES", "721"],
    ["SESSION_IDLE_MINUTES", "1.5"],
    ["SESSION_IDLE_MINUTES", "an hour"],
    ["AUDIT_RETENTION_DAYS", "-1"],
    ["AUDIT_RETENTION_DAYS", "36501"],
    ["AUDIT_RETENTION_DAYS", "1y"],
  ])("names %s when it is %j", (name, value) => {
    const problems = problemsWith({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
  });

  it.each(["8", "12", "15", "64", " 10 "])("accepts PASSWORD_MIN_LENGTH=%j (8 to 64)", (value) => {
    expect(problemsWith({ PASSWORD_MIN_LENGTH: value })).toEqual([]);
  });

  it("names every problem at once", () => {
    expect(problemsWith({ PORT: "x", DATABASE_POOL_MAX: "-1", AUTH_SECRET: "short" })).toHaveLength(3);
  });

  it("asks for the database and both secrets on a hosted deployment", () => {
    const problems = environmentProblems(env({ VERCEL: "1" }));
    expect(problems.join("\n")).toMatch(/AUTH_SECRET and TOTP_ENCRYPTION_KEY must be set/);
    expect(problems.join("\n")).toMatch(/DATABASE_URL must be set/);
  });

  it("asks for TRUST_PROXY=1 on Vercel, whose edge writes X-Forwarded-For: with 0 the IP would be Vercel's, not the client's", () => {
    const vercel = { VERCEL: "1", DATABASE_URL: GOOD.DATABASE_URL!, AUTH_SECRET: GOOD.AUTH_SECRET!, TOTP_ENCRYPTION_KEY: KEY };
    for (const value of [undefined, "0", "2"]) {
      const problems = environmentProblems(env(value === undefined ? vercel : { ...vercel, TRUST_PROXY: value }));
      expect(problems, String(value)).toEqual(["TRUST_PROXY must be 1 on Vercel: its edge sets X-Forwarded-For to the client's address (docs/DEPLOY.md)."]);
    }
    expect(environmentProblems(env({ ...vercel, TRUST_PROXY: "1" }))).toEqual([]);
  });

  it("signs idle sessions out after 60 minutes unless SESSION_IDLE_MINUTES says otherwise", () => {
    withEnv("SESSION_IDLE_MINUTES", (set) => {
      set(undefined);
      expect(sessionIdleMinutes()).toBe(60);
      set(" 15 ");
      expect(sessionIdleMinutes()).toBe(15);
      set("0");
      expect(() => sessionIdleMinutes()).toThrow(/SESSION_IDLE_MINUTES/);
    });
  });

  it("keeps audit events 400 days unless AUDIT_RETENTION_DAYS says otherwise; 0 keeps them forever", () => {
    withEnv("AUDIT_RETENTION_DAYS", (set) => {
      set(undefined);
      expect(auditRetentionDays()).toBe(400);
      set(" 30 ");
      expect(auditRetentionDays()).toBe(30);
      set("0");
      expect(auditRetentionDays()).toBeNull();
      set("forever");
      expect(() => auditRetentionDays()).toThrow(/AUDIT_RETENTION_DAYS/);
    });
  });
});

/** Runs `body` with `name` set as it says (undefined: unset), then puts the variable back as it was. */
function withEnv(name: string, body: (set: (value: string | undefined) => void) => void): void {
  const before = process.env[name];
  const set = (value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  try {
    body(set);
  } finally {
    set(before);
  }
}
