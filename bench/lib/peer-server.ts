import { execFileSync, spawn } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Sql } from "postgres";
import { stopGroup } from "./app-server";
import { benchEmail, benchTotpSecret, PEER_SECRET } from "./config";

/**
 * The benchmark's peer: bench/peer, a minimal Next.js app with Better Auth (email + password and
 * its two-factor plugin) on PostgreSQL. It has its own package.json and lockfile and is never part
 * of the app: the bench installs it (`npm ci`) and builds it (`next build`) here, only when that is
 * missing or stale, and starts it with its own Next on a database of its own.
 */
export const PEER_DIR = path.resolve("bench/peer");
const NEXT_BIN = path.join(PEER_DIR, "node_modules/next/dist/bin/next");
// What the last `npm ci` installed from: the lockfile's hash (mtimes change with every checkout).
const INSTALL_STAMP = path.join(PEER_DIR, "node_modules/.bench-lock-sha256");
const BUILD_SOURCES = ["app", "lib", "instrumentation.ts", "next.config.mjs", "tsconfig.json", "package.json", "package-lock.json"];

/** Better Auth's cookie names with its default prefix; no `__Secure-` prefix on an http:// base URL. */
export const PEER_COOKIES = { twoFactor: "better-auth.two_factor", session: "better-auth.session_token" } as const;
/** twoFactor()'s `twoFactorCookieMaxAge` default: its challenge rows expire after 10 minutes. */
export const PEER_CHALLENGE_SECONDS = 600;

type Log = (message: string) => void;

/**
 * The environment of npm, next build and next start in bench/peer: no npm_* variables, since
 * `npm run bench` exports npm_config_local_prefix=<the app>, and an `npm ci` that inherited it
 * would reinstall the app's node_modules instead of the peer's.
 */
function peerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  // The app's secrets and database are not the peer's business.
  for (const name of ["DATABASE_URL", "DATA_DIR", "AUTH_SECRET", "AUTH_URL", "TOTP_ENCRYPTION_KEY", "NEXT_SERVER_ACTIONS_ENCRYPTION_KEY"]) delete env[name];
  return { ...env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", BETTER_AUTH_SECRET: PEER_SECRET, ...extra };
}

function newestMtime(target: string): number {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(target).map((entry) => newestMtime(path.join(target, entry))));
}

/** `npm ci` and `next build` in bench/peer, each only when missing or stale. */
export function ensurePeerBuilt(log: Log): void {
  // The lockfile's hash and how it was installed: a tree installed otherwise (without devDependencies, say) is stale.
  const lockHash = `${createHash("sha256").update(readFileSync(path.join(PEER_DIR, "package-lock.json"))).digest("hex")} --include=dev`;
  const installed = existsSync(INSTALL_STAMP) && readFileSync(INSTALL_STAMP, "utf8") === lockHash && existsSync(NEXT_BIN);
  if (!installed) {
    log("peer: installing bench/peer (npm ci, its own lockfile)");
    // --include=dev: next build needs TypeScript and the types, and NODE_ENV=production would omit them.
    execFileSync("npm", ["ci", "--prefix", PEER_DIR, "--include=dev", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: PEER_DIR, env: peerEnv(), stdio: "inherit" });
    writeFileSync(INSTALL_STAMP, lockHash);
  }
  const buildId = path.join(PEER_DIR, ".next/BUILD_ID");
  const built = existsSync(buildId) ? statSync(buildId).mtimeMs : 0;
  const sources = Math.max(newestMtime(INSTALL_STAMP), ...BUILD_SOURCES.map((s) => newestMtime(path.join(PEER_DIR, s))));
  if (built === 0 || sources > built) {
    log(built === 0 ? "peer: no build yet: next build (about half a minute)" : "peer: sources changed: next build");
    // The build reads the auth module (page data): give it the run's secret, or Better Auth logs an error.
    execFileSync(process.execPath, [NEXT_BIN, "build"], { cwd: PEER_DIR, env: peerEnv({ BETTER_AUTH_URL: "http://localhost" }), stdio: "inherit" });
  }
}

/** The versions the peer runs, from its own node_modules (kept in results.json). */
export function peerVersions(): Record<string, string> {
  const version = (name: string) => (JSON.parse(readFileSync(path.join(PEER_DIR, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  return Object.fromEntries(["better-auth", "next", "react", "pg", "@node-rs/argon2"].map((name) => [name, version(name)]));
}

export type PeerServer = { origin: string; log(): string; stop(): Promise<void> };

/**
 * `next start` of the peer's build. Its instrumentation.ts runs Better Auth's migrator before the
 * server answers, so once GET /api/noop answers 204 the schema exists and can be seeded.
 */
export async function startPeer(port: number, databaseUrl: string): Promise<PeerServer> {
  const origin = `http://localhost:${port}`;
  const child = spawn(process.execPath, [NEXT_BIN, "start", "-p", String(port)], {
    cwd: PEER_DIR,
    env: peerEnv({ PORT: String(port), BETTER_AUTH_URL: origin, DATABASE_URL: databaseUrl }),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // own process group: stop() ends the peer and nothing else
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`peer exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      await stopGroup(child);
      throw new Error(`peer at ${origin} did not answer /api/noop in time:\n${output}`);
    }
    try {
      const response = await fetch(`${origin}/api/noop`);
      await response.arrayBuffer();
      if (response.status === 204) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { origin, log: () => output, stop: () => stopGroup(child) };
}

type SymmetricEncrypt = (options: { key: string; data: string }) => Promise<string>;

/**
 * Better Auth's own `symmetricEncrypt` (better-auth/crypto), loaded from the peer's node_modules:
 * XChaCha20-Poly1305 under SHA-256(secret), random nonce, hex; with a single `secret` (no
 * versioned `secrets`) it writes no `$ba$<version>$` envelope. Rows encrypted by it are exactly
 * what `/two-factor/enable` stores, and the server decrypts them as its own.
 */
async function betterAuthEncrypt(): Promise<SymmetricEncrypt> {
  const resolved = createRequire(path.join(PEER_DIR, "package.json")).resolve("better-auth/crypto");
  const crypto = (await import(pathToFileURL(resolved).href)) as { symmetricEncrypt: SymmetricEncrypt };
  return crypto.symmetricEncrypt;
}

/** A seeded peer user; `key` is the HMAC key of its TOTP (Better Auth uses the secret's UTF-8 bytes). */
export type PeerUser = { n: number; id: string; email: string; key: Buffer };

/** Better Auth's ids are 32 random characters; these are 32 hex, derived so that a run can be repeated. */
const peerId = (kind: string, n: number) => createHash("md5").update(`bench-peer-${kind}-${n}`).digest("hex");

/**
 * Peer users 1…count in one statement per table, the rows that sign-up + /two-factor/enable +
 * a first verify-totp leave: a user (twoFactorEnabled), a credential account with the shared
 * argon2id hash (same parameters as the peer's hash hook, so its verify does the same work), and a
 * verified twoFactor row whose secret is encrypted with the peer's secret. Each secret is the
 * user's bench TOTP secret string (32 characters, as the plugin's generateRandomString(32) makes),
 * so the load generator knows every code. The backup codes, never used, are one shared blob.
 */
export async function seedPeerUsers(sql: Sql, count: number, passwordHash: string): Promise<PeerUser[]> {
  const encrypt = await betterAuthEncrypt();
  const users = Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    const secret = benchTotpSecret(n);
    return { n, id: peerId("user", n), email: benchEmail(n), secret, key: Buffer.from(secret, "utf8") };
  });
  const ciphertexts = await Promise.all(users.map((u) => encrypt({ key: PEER_SECRET, data: u.secret })));
  const backupCodes = await encrypt({ key: PEER_SECRET, data: JSON.stringify(Array.from({ length: 10 }, (_, i) => `bench-${i}`)) });
  const ns = users.map((u) => u.n);
  const ids = users.map((u) => u.id);
  const emails = users.map((u) => u.email);
  await sql.begin(async (tx) => {
    await tx`
      insert into "user" (id, name, email, "emailVerified", "createdAt", "updatedAt", "twoFactorEnabled")
      select id, 'Bench User ' || n, email, false, now(), now(), true
      from unnest(${ns}::int[], ${ids}::text[], ${emails}::text[]) as t(n, id, email)`;
    await tx`
      insert into account (id, "accountId", "providerId", "userId", password, "createdAt", "updatedAt")
      select md5('bench-peer-account-' || n), id, 'credential', id, ${passwordHash}, now(), now()
      from unnest(${ns}::int[], ${ids}::text[]) as t(n, id)`;
    await tx`
      insert into "twoFactor" (id, secret, "backupCodes", "userId", verified, "failedVerificationCount")
      select md5('bench-peer-2fa-' || n), secret, ${backupCodes}, id, true, 0
      from unnest(${ns}::int[], ${ids}::text[], ${ciphertexts}::text[]) as t(n, id, secret)`;
  });
  await sql`analyze "user", account, "twoFactor"`;
  return users.map(({ n, id, email, key }) => ({ n, id, email, key }));
}

/** A cookie value as Better Auth (better-call) signs it: `value.base64(HMAC-SHA-256(secret, value))`, URI-encoded. */
export function signPeerCookie(value: string): string {
  return encodeURIComponent(`${value}.${createHmac("sha256", PEER_SECRET).update(value).digest("base64")}`);
}

export type PeerChallenge = { cookie: string; user: number };

/**
 * Fresh two-factor challenges, one per user, written straight into `verification` as the plugin's
 * sign-in hook writes them (checked against a real sign-in by the peer section): a row
 * `2fa-<20 random characters>` → user id and its attempts counter `2fa-attempts-<that>` → "0",
 * both expiring in 10 minutes; the cookie is that identifier signed with the peer's secret.
 */
export async function freshPeerChallenges(sql: Sql, users: PeerUser[]): Promise<PeerChallenge[]> {
  await sql`delete from verification where identifier like '2fa-%'`;
  const identifiers = users.map(() => `2fa-${randomBytes(15).toString("base64url")}`); // 20 characters of a-zA-Z0-9-_
  const rowIds = [...identifiers.map(() => randomBytes(24).toString("base64url")), ...identifiers.map(() => randomBytes(24).toString("base64url"))];
  const rowIdentifiers = [...identifiers, ...identifiers.map((i) => `2fa-attempts-${i}`)];
  const values = [...users.map((u) => u.id), ...users.map(() => "0")];
  await sql`
    insert into verification (id, identifier, value, "expiresAt", "createdAt", "updatedAt")
    select id, identifier, value, now() + make_interval(secs => ${PEER_CHALLENGE_SECONDS}), now(), now()
    from unnest(${rowIds}::text[], ${rowIdentifiers}::text[], ${values}::text[]) as t(id, identifier, value)`;
  await sql`analyze verification`;
  return identifiers.map((identifier, user) => ({ cookie: signPeerCookie(identifier), user }));
}
