import "server-only";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

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
  const key = Buffer.from(encoded, "base64");
  if (key.length !== 32) {
    throw new Error("TOTP_ENCRYPTION_KEY must be base64 of exactly 32 bytes (openssl rand -base64 32).");
  }
  return key;
}

function storedSecrets(): StoredSecrets {
  const dir = dataDir();
  const file = path.join(dir, "secrets.json");
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
