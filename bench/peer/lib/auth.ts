import { hash, verify } from "@node-rs/argon2";
import { betterAuth, type BetterAuthOptions } from "better-auth";
import { twoFactor } from "better-auth/plugins";
import { Pool } from "pg";

// The app's parameters (lib/auth/password.ts): OWASP's argon2id minimum, m = 19 MiB, t = 2, p = 1,
// so that the password step costs the same hash on both sides. algorithm 2 = Argon2id.
const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * The peer as its documentation sets it up for Next.js: email + password, the two-factor plugin,
 * PostgreSQL through `pg`. Everything else is Better Auth's default, except what the benchmark
 * needs to compare like with like: our argon2id through its password hooks, and no rate limit
 * (the app's limiter allows the bench's load; Better Auth's would answer 429 to it).
 */
export const authOptions = {
  appName: "bench-peer",
  baseURL: process.env.BETTER_AUTH_URL,
  secret: process.env.BETTER_AUTH_SECRET,
  // 10 connections, as the app's postgres.js pool (DATABASE_POOL_MAX defaults to 10).
  database: new Pool({ connectionString: process.env.DATABASE_URL, max: 10 }),
  emailAndPassword: {
    enabled: true,
    password: {
      hash: (password) => hash(password, ARGON2_OPTIONS),
      verify: ({ hash: stored, password }) => verify(stored, password).catch(() => false),
    },
  },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  plugins: [twoFactor()],
} satisfies BetterAuthOptions;

export const auth = betterAuth(authOptions);
