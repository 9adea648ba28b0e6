import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { environmentProblems } from "@/lib/env";

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
  ])("names %s when it is %j", (name, value) => {
    const problems = problemsWith({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
  });

  it("names every problem at once", () => {
    expect(problemsWith({ PORT: "x", DATABASE_POOL_MAX: "-1", AUTH_SECRET: "short" })).toHaveLength(3);
  });

  it("asks for the database and both secrets on a hosted deployment", () => {
    const problems = environmentProblems(env({ VERCEL: "1" }));
    expect(problems.join("\n")).toMatch(/AUTH_SECRET and TOTP_ENCRYPTION_KEY must be set/);
    expect(problems.join("\n")).toMatch(/DATABASE_URL must be set/);
  });
});
