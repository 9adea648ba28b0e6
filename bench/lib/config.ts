import { createHmac } from "node:crypto";

/**
 * Fixed secrets for every server the benchmark starts: the bench seeds TOTP
 * secrets encrypted with this key and the server must decrypt them. They
 * protect nothing (throwaway databases on loopback).
 */
export const BENCH_SECRETS = {
  AUTH_SECRET: "bench-auth-secret-0123456789abcdef0123456789abcdef",
  TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 11).toString("base64"),
  NEXT_SERVER_ACTIONS_ENCRYPTION_KEY: Buffer.alloc(32, 13).toString("base64"),
} as const;

/**
 * The peer's (bench/peer, Better Auth) secret: it signs the two-factor cookie and encrypts the
 * TOTP secrets, so the bench needs it to prepare challenges and seed users. Fixed and high in
 * entropy (Better Auth warns about a low-entropy secret); it protects nothing.
 */
export const PEER_SECRET = createHmac("sha256", "bench-peer").update("better-auth-secret").digest("base64");

/** The only ports the bench may listen on (3000–3399 belong to other work on this machine). */
export const PORTS = {
  app: 3401,
  bare: 3402,
  // The code step at 10 000 and 1 000 000 users (sections/code-scale.ts): outside 3401–3449, so that it
  // can run beside a bench of another checkout.
  codeSmall: 3451,
  codeLarge: 3452,
  usersSmall: 3411,
  usersLarge: 3412,
  start: 3421,
  rssPglite: 3422,
  rssPostgres: 3423,
  browser: 3431,
  peer: 3441,
} as const;

/** Every seeded bench user signs in with this password (one argon2id hash shared by all rows). */
export const BENCH_PASSWORD = "bench-password-correct-horse";
export const BENCH_EMAIL_DOMAIN = "bench.example";
export const ADMIN_EMAIL = `admin@${BENCH_EMAIL_DOMAIN}`;

export const benchEmail = (n: number) => `bench${String(n).padStart(6, "0")}@${BENCH_EMAIL_DOMAIN}`;

const RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Bench user n's TOTP secret (base32, 20 bytes, as otplib stores it): derived, so the load generator knows it. */
export function benchTotpSecret(n: number): string {
  const bytes = createHmac("sha256", "bench-totp").update(String(n)).digest().subarray(0, 20);
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += RFC4648[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += RFC4648[(value << (5 - bits)) & 31];
  return out;
}
