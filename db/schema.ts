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
  primaryKey,
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
    /** Users enrolled in 2FA (an enabled authenticator app or a security key, each user once): rows of `enrolled_users`. */
    enrolled: bigint("enrolled", { mode: "number" }).notNull(),
  },
  (t) => [check("user_counts_single_row", sql`${t.id} = 1`)],
);

/**
 * One row per user enrolled in 2FA, with their number of second factors (1
 * for an enabled authenticator app, 1 per security key). Written only by the
 * triggers of migration 0013, never by the app: `userCounts.enrolled` counts
 * its rows, so the Users page reads one row however many keys there are.
 */
export const enrolledUsers = pgTable("enrolled_users", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  factors: integer("factors").notNull(),
});

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
  /**
   * SHA-256 of the sign-in challenge that started this pending enrollment (forced
   * enrollment at sign-in), null when it was started from My Settings. An
   * enrollment is confirmed only where it started: a password holder's
   * challenge never completes with the owner's enrollment, nor the reverse.
   */
  enrollmentChallengeHash: text("enrollment_challenge_hash"),
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
    /**
     * "sign_in": the password passed; "enroll": enrollment must come first;
     * "enrolled": made by confirming the enrollment of an "enroll" challenge, which
     * it replaces — the only challenge that signs in without a further code.
     * Every challenge of a user is deleted when that user's password, role, email,
     * session version or factors change (triggers, migration 0007).
     */
    purpose: text("purpose", { enum: ["sign_in", "enroll", "enrolled"] }).notNull(),
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
 * One row per signed-in session (a signed JWT in a cookie, named by its `sid`),
 * written when the second step issues it. The per-request check requires the
 * row: signing out deletes it, so copies of the cookie stop working too; a
 * session idle past SESSION_IDLE_MINUTES or past `expiresAt` (12 hours after
 * sign-in) is refused. `sessionVersion` is the user's version the session
 * holds (re-granted after its own password or 2FA change): rows of an older
 * version belong to sessions a bump ended. IP and browser are those of the
 * sign-in, for My Settings → Sessions.
 */
export const sessions = pgTable(
  "sessions",
  {
    sid: text("sid").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    sessionVersion: integer("session_version").notNull(),
    signedInAt: timestamp("signed_in_at", { withTimezone: true }).notNull().defaultNow(),
    lastActiveAt: timestamp("last_active_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

/**
 * An administrator's confirmation (a current code or the password) before a
 * change that weakens sign-in for others (lib/admin/step-up.ts). Keyed by the
 * session that gave it, the JWT's `sid`: another session of the same admin —
 * a stolen cookie signed in elsewhere — cannot use it. Counts for 5 minutes;
 * the hourly sweep deletes older rows.
 */
export const stepUpConfirmations = pgTable(
  "step_up_confirmations",
  {
    sessionId: text("session_id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    confirmedAt: timestamp("confirmed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("step_up_confirmations_confirmed_idx").on(t.confirmedAt)],
);

/**
 * Security keys and passkeys (WebAuthn credentials), a second factor
 * (lib/security-keys). The credential id is unique across users: one
 * authenticator credential belongs to one account. The public key (COSE,
 * base64url) is public; the counter is the last signature counter seen (0 for
 * keys that keep none). `deviceType`, `backedUp` and `userVerified` are as
 * the registration reported them; `discoverable` is the credProps answer
 * (null: the browser did not say). Adding or removing a key ends the user's
 * pending sign-ins (trigger, migration 0008); a use (counter, lastUsedAt) does not.
 */
export const securityKeys = pgTable(
  "security_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    credentialId: text("credential_id").notNull(),
    publicKey: text("public_key").notNull(),
    counter: bigint("counter", { mode: "number" }).notNull().default(0),
    transports: jsonb("transports").$type<string[]>().notNull().default([]),
    deviceType: text("device_type", { enum: ["singleDevice", "multiDevice"] }).notNull(),
    backedUp: boolean("backed_up").notNull(),
    userVerified: boolean("user_verified").notNull(),
    discoverable: boolean("discoverable"),
    aaguid: text("aaguid").notNull(),
    name: text("name").notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("security_keys_credential_idx").on(t.credentialId), index("security_keys_user_idx").on(t.userId)],
);

/**
 * A WebAuthn challenge handed to the browser, single use, 5 minutes. A
 * "register" or "step_up" challenge belongs to the signed-in session that
 * asked for it; a "sign_in" one to the pending sign-in (the password step's
 * challenge), and dies with it; a "passkey" one to no one yet (the browser
 * keeps it in a cookie; the passkey says who signs in). The challenge is not secret (the browser signs it); what
 * matters is that it is used once, by the session or sign-in it was made for.
 */
export const webauthnChallenges = pgTable(
  "webauthn_challenges",
  {
    challenge: text("challenge").primaryKey(),
    // None for "passkey": who signs in is what the assertion will say.
    userId: uuid("user_id").references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: ["register", "sign_in", "step_up", "passkey"] }).notNull(),
    sessionId: text("session_id").references(() => sessions.sid, { onDelete: "cascade" }),
    signInChallengeHash: text("sign_in_challenge_hash").references(() => signInChallenges.tokenHash, { onDelete: "cascade" }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("webauthn_challenges_expires_idx").on(t.expiresAt),
    // Each challenge belongs to what asked for it: the session adding a key or confirming with one, the pending sign-in,
    // or (a passkey sign-in, before anyone is known) the browser holding its cookie.
    check(
      "webauthn_challenges_bound",
      sql`(${t.purpose} in ('register', 'step_up') and ${t.sessionId} is not null and ${t.userId} is not null) or (${t.purpose} = 'sign_in' and ${t.signInChallengeHash} is not null and ${t.userId} is not null) or (${t.purpose} = 'passkey' and ${t.userId} is null and ${t.sessionId} is null and ${t.signInChallengeHash} is null)`,
    ),
  ],
);

/**
 * Fixed-window counters shared by every app instance (password failures per
 * IP, mail claims). Rows whose window closed a day ago are swept.
 */
export const rateLimits = pgTable("rate_limits", {
  key: text("key").primaryKey(),
  count: integer("count").notNull(),
  windowStartedAt: timestamp("window_started_at", { withTimezone: true }).notNull(),
});

/**
 * Consecutive wrong passwords, per user and counter (lib/auth/password-failures.ts):
 * `sign-in` for the account, `device:<id>` for a browser that signed in as
 * the user before, `signed-in` for Change password and the admin's Password
 * confirmation. A success deletes the row; nothing else does (no sweep: a
 * forgotten row would hand out a fresh allowance), and rows exist only for
 * real users and devices, so the table stays small.
 */
export const passwordFailures = pgTable(
  "password_failures",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    counter: text("counter").notNull(),
    failures: integer("failures").notNull(),
    lockouts: integer("lockouts").notNull().default(0),
    lockedUntil: timestamp("locked_until", { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.userId, t.counter] })],
);

/** Instance-wide settings: exactly one row, id = 1. */
export const instanceSettings = pgTable(
  "instance_settings",
  {
    id: smallint("id").primaryKey().default(1),
    twoFactorEnabled: boolean("two_factor_enabled").notNull().default(true),
    trustBrowserEnabled: boolean("trust_browser_enabled").notNull().default(false),
    trustBrowserDays: smallint("trust_browser_days").notNull().default(30),
    /** Allow sign-in with a passkey: a discoverable key with user verification signs in without password or code. */
    passkeySignInEnabled: boolean("passkey_sign_in_enabled").notNull().default(false),
    /** Require a security key for administrators: without one, an administrator's powers wait until they add one. */
    requireSecurityKeyForAdmins: boolean("require_security_key_for_admins").notNull().default(false),
    /** Enforcement policy (next issue). */
    requireTwoFactorFor: text("require_two_factor_for", { enum: ["nobody", "admins", "everyone"] })
      .notNull()
      .default("nobody"),
    requireGraceDays: smallint("require_grace_days").notNull().default(0),
    /**
     * When the policy took effect: administrators' grace counts from here, and
     * stays put when the scope widens to everyone or narrows back to them.
     */
    requireSince: timestamp("require_since", { withTimezone: true }),
    /** When the scope became everyone: other users' grace counts from here; null unless the scope is everyone. */
    requireEveryoneSince: timestamp("require_everyone_since", { withTimezone: true }),
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
    // A user's events as target and as actor (the user filter is both), newest first; with the id, the
    // Audit log's count of them is read from the index alone (lib/audit-log.ts).
    index("audit_events_target_at_id_idx").on(t.targetUserId, t.at, t.id),
    index("audit_events_actor_at_id_idx").on(t.actorUserId, t.at, t.id),
    index("audit_events_event_at_idx").on(t.event, t.at),
  ],
);

export type User = typeof users.$inferSelect;
export type TotpCredential = typeof totpCredentials.$inferSelect;
export type InstanceSettings = typeof instanceSettings.$inferSelect;
export type UserCounts = typeof userCounts.$inferSelect;
