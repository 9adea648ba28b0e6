import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/**
 * Accounts. Email is stored lower-cased, so one unique index serves sign-in.
 * `sessionVersion` is copied into every JWT; bumping it signs the user out everywhere.
 *
 * The admin Users table (lib/users.ts searchUsers) at 100 000 rows: pages walk
 * `users_order_idx` in the order shown; a search matches substrings through the
 * pg_trgm GIN indexes (migration 0002 creates the extension); the "enrollment
 * required" filter walks its own small partial index. The totals come from
 * `user_counts`, not from counting rows.
 */
export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: ["admin", "user"] }).notNull().default("user"),
    sessionVersion: integer("session_version").notNull().default(0),
    /** Set by an admin (next issue): enrollment comes first at the next sign-in. */
    twoFactorRequired: boolean("two_factor_required").notNull().default(false),
    // Second-step lockout: one counter per account, shared by TOTP and recovery codes.
    secondFactorFailures: integer("second_factor_failures").notNull().default(0),
    secondFactorLockedUntil: timestamp("second_factor_locked_until", { withTimezone: true }),
    secondFactorLockouts: integer("second_factor_lockouts").notNull().default(0),
    passwordChangedAt: timestamp("password_changed_at", { withTimezone: true }).notNull().defaultNow(),
    /** Last time this user re-confirmed with a code or password before a sensitive admin change. */
    reauthenticatedAt: timestamp("reauthenticated_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("users_email_key").on(t.email),
    index("users_order_idx").on(sql`lower(${t.name})`, t.email),
    index("users_required_order_idx").on(sql`lower(${t.name})`, t.email).where(sql`${t.twoFactorRequired}`),
    // fastupdate off: with it on, new entries wait in an unsorted pending list that every search
    // reads in full until a VACUUM merges it; after seeding 100 000 users that list made a search
    // several times slower, and made the planner cost the index so high that it chose to scan
    // the table. Users are added rarely and searched often: pay at insert time instead.
    index("users_name_trgm_idx").using("gin", sql`lower(${t.name}) gin_trgm_ops`).with({ fastupdate: false }),
    index("users_email_trgm_idx").using("gin", t.email.op("gin_trgm_ops")).with({ fastupdate: false }),
    check("users_email_lower", sql`${t.email} = lower(${t.email})`),
  ],
);

/**
 * Running totals for the Users and Settings pages: exactly one row, id = 1.
 * Kept by triggers on `users` and `totp_credentials` (migration 0006), so
 * every write path — the app, the seeder, the CLI, a cascade, a hand-typed
 * statement — keeps them exact without knowing about them; reading them costs
 * the same at any number of users, where `count(*)` reads every row.
 */
export const userCounts = pgTable(
  "user_counts",
  {
    id: smallint("id").primaryKey().default(1),
    /** Rows of `users`. */
    users: bigint("users", { mode: "number" }).notNull(),
    /** Rows of `totp_credentials` with `enabled_at` set: users enrolled in 2FA. */
    enrolled: bigint("enrolled", { mode: "number" }).notNull(),
  },
  (t) => [check("user_counts_single_row", sql`${t.id} = 1`)],
);

/**
 * One TOTP credential per user. A row with `enabledAt` null is an enrollment
 * in progress (secret shown, not yet confirmed with a code).
 * `lastUsedStep` is the RFC 6238 time step of the last accepted code: a code is
 * accepted only through a compare-and-set on it, so it can be used once.
 */
export const totpCredentials = pgTable("totp_credentials", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  /** AES-256-GCM, see lib/crypto.ts; the user id is the associated data. */
  secretCiphertext: text("secret_ciphertext").notNull(),
  enabledAt: timestamp("enabled_at", { withTimezone: true }),
  lastUsedStep: bigint("last_used_step", { mode: "number" }),
  createdAt: createdAt(),
});

/** Recovery codes, stored as SHA-256 of user id + normalised code. A new set replaces the old. */
export const recoveryCodes = pgTable(
  "recovery_codes",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("recovery_codes_user_hash_key").on(t.userId, t.codeHash)],
);

/**
 * The server-side state between the password step and the second step.
 * Only the SHA-256 of the random token is stored; the token lives in an
 * HttpOnly cookie. Single use: consumed by one DELETE … RETURNING.
 */
export const signInChallenges = pgTable(
  "sign_in_challenges",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** "sign_in": the password passed; "enroll": enrollment must come first (next issue). */
    purpose: text("purpose", { enum: ["sign_in", "enroll"] }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("sign_in_challenges_expires_idx").on(t.expiresAt)],
);

/** Browsers a user chose to trust (next issue). Only the SHA-256 of the cookie token is kept. */
export const trustedBrowsers = pgTable(
  "trusted_browsers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    description: text("description").notNull(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("trusted_browsers_token_hash_key").on(t.tokenHash), index("trusted_browsers_user_idx").on(t.userId)],
);

/**
 * Fixed-window failure counters shared by every app instance
 * (password step per account and per IP).
 */
/**
 * Sessions signed out before their 12 hours were up. A session is a signed
 * JWT in a cookie; without this list a copy of the cookie would outlive the
 * sign-out. Rows are useless after `expiresAt` and are deleted then.
 */
export const endedSessions = pgTable(
  "ended_sessions",
  {
    sessionId: text("session_id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("ended_sessions_expires_idx").on(t.expiresAt)],
);

export const rateLimits = pgTable("rate_limits", {
  key: text("key").primaryKey(),
  count: integer("count").notNull(),
  windowStartedAt: timestamp("window_started_at", { withTimezone: true }).notNull(),
});

/** Instance-wide settings: exactly one row, id = 1. */
export const instanceSettings = pgTable(
  "instance_settings",
  {
    id: smallint("id").primaryKey().default(1),
    twoFactorEnabled: boolean("two_factor_enabled").notNull().default(true),
    trustBrowserEnabled: boolean("trust_browser_enabled").notNull().default(false),
    trustBrowserDays: smallint("trust_browser_days").notNull().default(30),
    /** Enforcement policy (next issue). */
    requireTwoFactorFor: text("require_two_factor_for", { enum: ["nobody", "admins", "everyone"] })
      .notNull()
      .default("nobody"),
    requireGraceDays: smallint("require_grace_days").notNull().default(0),
    requireSince: timestamp("require_since", { withTimezone: true }),
    /** SHA-256 of the one-time first-run token; null once used or while users exist. */
    setupTokenHash: text("setup_token_hash"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("instance_settings_single_row", sql`${t.id} = 1`),
    // The forms check these ranges too; the database keeps them if a form ever stops doing so.
    check("instance_settings_trust_days_range", sql`${t.trustBrowserDays} between 1 and 90`),
    check("instance_settings_grace_days_range", sql`${t.requireGraceDays} between 0 and 90`),
  ],
);

/** Security events. Written in the same transaction as the change they record; never a secret. */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    event: text("event").notNull(),
    actorUserId: uuid("actor_user_id").references(() => users.id, { onDelete: "set null" }),
    targetUserId: uuid("target_user_id").references(() => users.id, { onDelete: "set null" }),
    ip: text("ip"),
    userAgent: text("user_agent"),
    details: jsonb("details").$type<Record<string, string | number | boolean | null>>(),
  },
  (t) => [
    index("audit_events_at_idx").on(t.at),
    index("audit_events_target_at_idx").on(t.targetUserId, t.at),
    index("audit_events_event_at_idx").on(t.event, t.at),
  ],
);

export type User = typeof users.$inferSelect;
export type TotpCredential = typeof totpCredentials.$inferSelect;
export type InstanceSettings = typeof instanceSettings.$inferSelect;
export type UserCounts = typeof userCounts.$inferSelect;
