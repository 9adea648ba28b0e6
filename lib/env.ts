import "server-only";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isPasswordMinLength, PASSWORD_MIN_LENGTH_RANGE } from "@/lib/validation/password-policy";

/** Where the embedded database and generated secrets live. */
export function dataDir(): string {
  return path.resolve(/*turbopackIgnore: true*/ process.env.DATA_DIR || "./data");
}

export function databaseUrl(): string | null {
  return process.env.DATABASE_URL?.trim() || null;
}

type Secrets = { authSecret: string; totpKeys: Buffer[] };
type StoredSecrets = { authSecret: string; totpEncryptionKey: string };

const state = globalThis as typeof globalThis & { __secrets?: Secrets };

/**
 * AUTH_SECRET and the TOTP encryption key(s), from the environment or, when
 * absent, generated once into DATA_DIR/secrets.json so that a local install
 * needs no setup. Hosted deployments must set both: instances share nothing else.
 *
 * TOTP_ENCRYPTION_KEY holds one or more base64 32-byte keys, comma separated,
 * newest first: new secrets are encrypted with the first, any may decrypt.
 */
export function secrets(): Secrets {
  if (state.__secrets) return state.__secrets;
  const envAuth = process.env.AUTH_SECRET?.trim();
  const envKeys = process.env.TOTP_ENCRYPTION_KEY?.trim();
  const stored = envAuth && envKeys ? null : storedSecrets();
  const keyList = (envKeys || stored!.totpEncryptionKey).split(",").map((k) => k.trim());
  const totpKeys = keyList.map(parseKey);
  state.__secrets = { authSecret: envAuth || stored!.authSecret, totpKeys };
  return state.__secrets;
}

function parseKey(encoded: string): Buffer {
  // The same rule as environmentProblems(): the start stops on it before this is reached.
  if (!isBase64Key(encoded, [32])) {
    throw new Error("TOTP_ENCRYPTION_KEY must be base64 of exactly 32 bytes (openssl rand -base64 32).");
  }
  return Buffer.from(encoded, "base64");
}

function storedSecrets(): StoredSecrets {
  const dir = dataDir();
  const file = path.join(/*turbopackIgnore: true*/ dir, "secrets.json");
  try {
    return JSON.parse(readFileSync(file, "utf8")) as StoredSecrets;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dir, { recursive: true });
  const generated: StoredSecrets = {
    authSecret: randomBytes(32).toString("base64url"),
    totpEncryptionKey: randomBytes(32).toString("base64"),
  };
  try {
    // "wx": if another process created it first, use theirs.
    writeFileSync(file, JSON.stringify(generated, null, 2), { flag: "wx", mode: 0o600 });
    console.warn(
      `[setup] AUTH_SECRET / TOTP_ENCRYPTION_KEY not set: generated them into ${file}. ` +
        "Hosted deployments must set both in the environment.",
    );
    return generated;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return JSON.parse(readFileSync(file, "utf8")) as StoredSecrets;
  }
}

// More proxies in a row than any real deployment has; a larger number is a typo.
const MAX_TRUSTED_PROXIES = 20;
const TRUST_PROXY_PROBLEM = `TRUST_PROXY must be the number of proxies in front of the app that append to X-Forwarded-For: a whole number from 0 (none, the default) to ${MAX_TRUSTED_PROXIES} (docs/DEPLOY.md).`;

/**
 * TRUST_PROXY: how many proxies in front of the app append to X-Forwarded-For
 * (lib/request-context.ts). 0 by default: the client IP is the socket's peer.
 * Read on every call, so a test may switch it; checked at start by environmentProblems().
 */
export function trustedProxyHops(): number {
  const value = process.env.TRUST_PROXY?.trim();
  if (!value) return 0;
  if (!isIntegerIn(value, 0, MAX_TRUSTED_PROXIES)) throw new Error(TRUST_PROXY_PROBLEM);
  return Number(value);
}

// An idle session ends after this long without a request (NIST SP 800-63B-4 §2.2.3: at AAL2, 1 hour of
// inactivity). At most the 12-hour absolute limit: a longer idle timeout would never apply.
const DEFAULT_SESSION_IDLE_MINUTES = 60;
const MAX_SESSION_IDLE_MINUTES = 12 * 60;
const SESSION_IDLE_PROBLEM = `SESSION_IDLE_MINUTES must be a whole number of minutes from 1 to ${MAX_SESSION_IDLE_MINUTES} (the 12-hour session limit); the default is ${DEFAULT_SESSION_IDLE_MINUTES}.`;

/**
 * SESSION_IDLE_MINUTES: a session without a request for this long is signed
 * out (lib/auth/session-records.ts). Read on every call, so a test may switch
 * it; checked at start by environmentProblems().
 */
export function sessionIdleMinutes(): number {
  const value = process.env.SESSION_IDLE_MINUTES?.trim();
  if (!value) return DEFAULT_SESSION_IDLE_MINUTES;
  if (!isIntegerIn(value, 1, MAX_SESSION_IDLE_MINUTES)) throw new Error(SESSION_IDLE_PROBLEM);
  return Number(value);
}

// Audit events older than this are deleted by the hourly sweep (lib/maintenance.ts). 400 days: a
// year of history plus a margin for the yearly review that compares one year with the one before.
const DEFAULT_AUDIT_RETENTION_DAYS = 400;
const MAX_AUDIT_RETENTION_DAYS = 36_500;
const AUDIT_RETENTION_PROBLEM = `AUDIT_RETENTION_DAYS must be a whole number of days from 1 to ${MAX_AUDIT_RETENTION_DAYS}, or 0 to keep the audit log forever; the default is ${DEFAULT_AUDIT_RETENTION_DAYS}.`;

/**
 * AUDIT_RETENTION_DAYS: how long the audit log keeps an event; null (0) keeps
 * every event. Read on every call, so a test may switch it; checked at start
 * by environmentProblems().
 */
export function auditRetentionDays(): number | null {
  const value = process.env.AUDIT_RETENTION_DAYS?.trim();
  if (!value) return DEFAULT_AUDIT_RETENTION_DAYS;
  if (!isIntegerIn(value, 0, MAX_AUDIT_RETENTION_DAYS)) throw new Error(AUDIT_RETENTION_PROBLEM);
  return Number(value) || null;
}

/**
 * Checks every setting the app reads from the environment, before anything
 * uses one, and names each problem: a deployment that is wrong in three ways
 * learns all three at once, in one message, instead of a 500 later.
 * Unset is fine wherever there is a default; a value that is set must be right.
 */
export function environmentProblems(env: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  const set = (name: string) => env[name]?.trim() || "";
  const url = set("DATABASE_URL");
  if (url && !/^postgres(ql)?:\/\/[^/]/i.test(url)) problems.push("DATABASE_URL must be a PostgreSQL URL: postgres://user:password@host:5432/database");
  const auth = set("AUTH_SECRET");
  if (auth && auth.length < 32) problems.push("AUTH_SECRET must be at least 32 characters (openssl rand -base64 33).");
  const keys = set("TOTP_ENCRYPTION_KEY");
  if (keys && !keys.split(",").every((key) => isBase64Key(key.trim(), [32]))) {
    problems.push("TOTP_ENCRYPTION_KEY must be base64 of exactly 32 bytes (openssl rand -base64 32); several, comma separated, newest first.");
  }
  const actionsKey = set("NEXT_SERVER_ACTIONS_ENCRYPTION_KEY");
  if (actionsKey && !isBase64Key(actionsKey, [16, 24, 32])) {
    problems.push("NEXT_SERVER_ACTIONS_ENCRYPTION_KEY must be base64 of 16, 24 or 32 bytes (openssl rand -base64 32).");
  }
  const poolMax = set("DATABASE_POOL_MAX");
  if (poolMax && !isIntegerIn(poolMax, 1, 1000)) problems.push("DATABASE_POOL_MAX must be a whole number of connections from 1 to 1000.");
  const connectTimeout = set("DATABASE_CONNECT_TIMEOUT");
  if (connectTimeout && !isIntegerIn(connectTimeout, 1, 60)) problems.push("DATABASE_CONNECT_TIMEOUT must be a whole number of seconds from 1 to 60.");
  const minLength = set("PASSWORD_MIN_LENGTH");
  if (minLength && !isPasswordMinLength(minLength)) {
    const { min, max } = PASSWORD_MIN_LENGTH_RANGE;
    problems.push(`PASSWORD_MIN_LENGTH must be a whole number of characters from ${min} to ${max} (below 15 only where everyone must use two-factor authentication).`);
  }
  const port = set("PORT");
  if (port && !isIntegerIn(port, 1, 65535)) problems.push("PORT must be a port number from 1 to 65535.");
  const trustProxy = set("TRUST_PROXY");
  const hops = !trustProxy ? 0 : isIntegerIn(trustProxy, 0, MAX_TRUSTED_PROXIES) ? Number(trustProxy) : null;
  if (hops === null) problems.push(TRUST_PROXY_PROBLEM);
  const idle = set("SESSION_IDLE_MINUTES");
  if (idle && !isIntegerIn(idle, 1, MAX_SESSION_IDLE_MINUTES)) problems.push(SESSION_IDLE_PROBLEM);
  const retention = set("AUDIT_RETENTION_DAYS");
  if (retention && !isIntegerIn(retention, 0, MAX_AUDIT_RETENTION_DAYS)) problems.push(AUDIT_RETENTION_PROBLEM);
  for (const name of ["AUTH_URL", "APP_URL"]) {
    const value = set(name);
    if (value && !/^https?:\/\/[^/]/i.test(value)) problems.push(`${name} must be the site's address, e.g. https://signin.example.com`);
  }
  // On a host without a lasting disk of its own (Vercel sets VERCEL), generated secrets would differ per instance.
  if (set("VERCEL") && (!auth || !keys)) {
    problems.push("AUTH_SECRET and TOTP_ENCRYPTION_KEY must be set on a hosted deployment: instances share no files (docs/DEPLOY.md).");
  }
  // Vercel's edge ends the client's connection and writes X-Forwarded-For itself: with 0 the IP would be
  // Vercel's own (one for all clients, whose wrong passwords would then share one per-IP limit), never the client's.
  if (set("VERCEL") && hops !== null && hops !== 1) problems.push("TRUST_PROXY must be 1 on Vercel: its edge sets X-Forwarded-For to the client's address (docs/DEPLOY.md).");
  if (set("VERCEL") && !url) problems.push("DATABASE_URL must be set on a hosted deployment: the embedded database needs a lasting disk (docs/DEPLOY.md).");
  if (env === process.env) {
    try {
      mailSettings();
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return problems;
}

/** Base64 or base64url (Node decodes both), of one of these byte lengths. */
function isIntegerIn(value: string, min: number, max: number): boolean {
  return /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max;
}

function isBase64Key(value: string, lengths: number[]): boolean {
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) && lengths.includes(Buffer.from(value, "base64").length);
}

/** environmentProblems() as one error, for the start and the scripts to print and stop on. */
export function assertEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const problems = environmentProblems(env);
  if (problems.length > 0) throw new Error(`the environment is not valid:\n  - ${problems.join("\n  - ")}`);
}

/** SMTP for security notifications: where to send from, and the sender shown. */
export type MailSettings = { smtpUrl: string; from: string };

export const DEFAULT_MAIL_FROM = "Two-factor sign-in <no-reply@localhost>";
// "Name <a@b>" or "a@b". The classes exclude their own delimiters, so matching stays linear.
const MAIL_FROM_FORMAT = /^(?:[^\r\n<>]{0,100}<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/;

/**
 * SMTP_URL (`smtp://user:pass@host:587`, or `smtps://…` for TLS from the
 * start) and MAIL_FROM; null when SMTP_URL is unset, and then no mail is sent.
 * Read on every call (cheap), so a test may switch it. Throws a message naming
 * the variable when malformed — checked at startup (lib/server-start.ts).
 */
export function mailSettings(): MailSettings | null {
  const smtpUrl = process.env.SMTP_URL?.trim();
  if (!smtpUrl) return null;
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new Error("SMTP_URL is not a URL: use smtp://user:password@host:587 or smtps://user:password@host:465.");
  }
  if ((url.protocol !== "smtp:" && url.protocol !== "smtps:") || !url.hostname) {
    throw new Error("SMTP_URL must start with smtp:// or smtps:// and name a host, e.g. smtp://user:password@host:587.");
  }
  const from = process.env.MAIL_FROM?.trim() || DEFAULT_MAIL_FROM;
  if (from.length > 320 || !MAIL_FROM_FORMAT.test(from)) {
    throw new Error('MAIL_FROM must be an address, optionally with a name: "Sign-in <no-reply@example.com>".');
  }
  return { smtpUrl, from };
}
