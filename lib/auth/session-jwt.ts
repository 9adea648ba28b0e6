import "server-only";
import { hkdf } from "node:crypto";
import { EncryptJWT, base64url, calculateJwkThumbprint, jwtDecrypt } from "jose";
import type { JWTDecodeParams, JWTEncodeParams, JWT } from "next-auth/jwt";

/**
 * The session cookie's JWE, exactly as Auth.js v5 seals and opens it
 * (@auth/core/jwt: "dir" + A256CBC-HS512, the key derived from AUTH_SECRET by
 * HKDF-SHA-256 with the cookie name as salt, its JWK thumbprint as "kid") —
 * but the key and its thumbprint are derived once per secret and cookie name,
 * not on every request: Auth.js derives both for each encode and each decode,
 * ~10 % of the server's CPU in a code step (docs/PERFORMANCE.md). Cookies
 * issued by either are read by the other (tests/unit/session-jwt.test.ts).
 */

const ALG = "dir";
const ENC = "A256CBC-HS512";
const KEY_BYTES = 64;
/** Auth.js's allowance for clocks of different instances (@auth/core/jwt decode). */
const CLOCK_TOLERANCE_SECONDS = 15;

type SessionKey = { key: Uint8Array; kid: string };
const keys = new Map<string, Promise<SessionKey>>();

function sessionKey(secret: string, salt: string): Promise<SessionKey> {
  const id = `${salt}\u0000${secret}`;
  let derived = keys.get(id);
  if (!derived) {
    derived = deriveKey(secret, salt);
    keys.set(id, derived);
  }
  return derived;
}

async function deriveKey(secret: string, salt: string): Promise<SessionKey> {
  const key = await new Promise<Uint8Array>((resolve, reject) =>
    hkdf("sha256", secret, salt, `Auth.js Generated Encryption Key (${salt})`, KEY_BYTES, (error, bits) =>
      error ? reject(error) : resolve(new Uint8Array(bits)),
    ),
  );
  const kid = await calculateJwkThumbprint({ kty: "oct", k: base64url.encode(key) }, "sha512");
  return { key, kid };
}

/** One secret: the app has no key rotation list (lib/env.ts gives AUTH_SECRET alone). */
function onlySecret(secret: JWTEncodeParams["secret"]): string {
  const first = Array.isArray(secret) ? secret[0] : secret;
  if (typeof first !== "string" || !first) throw new Error("AUTH_SECRET is missing");
  return first;
}

export async function encodeSession({ token = {}, secret, maxAge, salt }: JWTEncodeParams): Promise<string> {
  if (maxAge === undefined) throw new Error("a session needs its lifetime");
  const { key, kid } = await sessionKey(onlySecret(secret), salt);
  const now = Math.floor(Date.now() / 1000);
  return new EncryptJWT(token as Record<string, unknown>)
    .setProtectedHeader({ alg: ALG, enc: ENC, kid })
    .setIssuedAt(now)
    .setExpirationTime(now + maxAge)
    .setJti(crypto.randomUUID())
    .encrypt(key);
}

/** null for no token; throws for one that is not ours (Auth.js then treats the visitor as signed out). */
export async function decodeSession({ token, secret, salt }: JWTDecodeParams): Promise<JWT | null> {
  if (!token) return null;
  const { key, kid } = await sessionKey(onlySecret(secret), salt);
  const { payload } = await jwtDecrypt(
    token,
    (header) => {
      if (header.kid !== undefined && header.kid !== kid) throw new Error("no matching decryption secret");
      return key;
    },
    { clockTolerance: CLOCK_TOLERANCE_SECONDS, keyManagementAlgorithms: [ALG], contentEncryptionAlgorithms: [ENC] },
  );
  return payload as JWT;
}
