import { hkdfSync } from "node:crypto";
import { CompactEncrypt, EncryptJWT, base64url, calculateJwkThumbprint } from "jose";
import { decode as authDecode, encode as authEncode } from "next-auth/jwt";
import { describe, expect, it } from "vitest";
import { decodeSession, encodeSession } from "@/lib/auth/session-jwt";

/**
 * Red team: the app's own JWE decode (lib/auth/session-jwt.ts) against forged,
 * altered, expired and algorithm-swapped session cookies, each compared with
 * what Auth.js's own decode (next-auth/jwt) does with the same token. The app
 * may be stricter than Auth.js, never laxer.
 */
const SECRET = "red-team-auth-secret-0123456789abcdef0123456789";
const PLAIN = "authjs.session-token";
const SECURE = "__Secure-authjs.session-token";
const CLAIMS = { sub: "5b0c3c4e-4a51-4c3e-9f0b-8f5a2a8e0c01", sid: "b1d4", sv: 3, authTime: 1_700_000_000 };
const now = () => Math.floor(Date.now() / 1000);

/** Auth.js's key derivation, for any length (64 for A256CBC-HS512, 32 for A256GCM). */
function derived(secret: string, salt: string, length: number): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", secret, salt, `Auth.js Generated Encryption Key (${salt})`, length));
}
const thumbprint = (key: Uint8Array) => calculateJwkThumbprint({ kty: "oct", k: base64url.encode(key) }, `sha${key.byteLength << 3}` as "sha256");

async function seal(header: Record<string, unknown>, key: Uint8Array, claims: Record<string, unknown> = { ...CLAIMS, exp: now() + 3600 }): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader(header as never).encrypt(key);
}

const ours = (token: string, salt = PLAIN, secret: string | string[] = SECRET) => decodeSession({ token, secret, salt });
const theirs = (token: string, salt = PLAIN, secret: string | string[] = SECRET) => authDecode({ token, secret, salt });
/** true when the decode accepts the token. */
const accepts = async (decode: Promise<unknown>) => decode.then((payload) => payload !== null, () => false);

describe("red team: forged session cookies against the app's JWE decode", () => {
  it("A256GCM with Auth.js's own 32-byte key: Auth.js's decode accepts it, the app's refuses (stricter, not laxer)", async () => {
    const key = derived(SECRET, PLAIN, 32);
    const token = await seal({ alg: "dir", enc: "A256GCM", kid: await thumbprint(key) }, key);
    expect(await accepts(theirs(token))).toBe(true);
    expect(await accepts(ours(token))).toBe(false);
  });

  it("A256GCM with the first 32 bytes of the real A256CBC-HS512 key is refused", async () => {
    const key = derived(SECRET, PLAIN, 64).slice(0, 32);
    await expect(ours(await seal({ alg: "dir", enc: "A256GCM" }, key))).rejects.toThrow();
  });

  it("alg: none-style headers: an unsigned JWS, a JWE saying alg none, empty key parts", async () => {
    const unsigned = `${base64url.encode(JSON.stringify({ alg: "none" }))}.${base64url.encode(JSON.stringify({ ...CLAIMS, exp: now() + 3600 }))}.`;
    const real = await encodeSession({ token: CLAIMS, secret: SECRET, salt: PLAIN, maxAge: 3600 });
    const [, , iv, cipher, tag] = real.split(".");
    const noneHeader = base64url.encode(JSON.stringify({ alg: "none", enc: "A256CBC-HS512" }));
    const noneJwe = [noneHeader, "", iv, cipher, tag].join(".");
    const noEnc = [base64url.encode(JSON.stringify({ alg: "dir" })), "", iv, cipher, tag].join(".");
    for (const token of [unsigned, noneJwe, noEnc, "a.b.c.d.e", "....", `${real}.`, real.split(".").slice(0, 4).join(".")]) {
      expect(await accepts(ours(token)), token.slice(0, 40)).toBe(false);
      expect(await accepts(theirs(token)), token.slice(0, 40)).toBe(false);
    }
  });

  it("other key management or content algorithms, even under the real key material (A256KW, A128CBC-HS256, A256CBC-HS512 with a 'dir' of another length)", async () => {
    const key64 = derived(SECRET, PLAIN, 64);
    const wrapped = await new EncryptJWT({ ...CLAIMS }).setProtectedHeader({ alg: "A256KW", enc: "A256CBC-HS512" }).setExpirationTime("1h").encrypt(key64.slice(0, 32));
    const small = await seal({ alg: "dir", enc: "A128CBC-HS256" }, key64.slice(0, 32));
    const pbes = await new EncryptJWT({ ...CLAIMS }).setProtectedHeader({ alg: "PBES2-HS256+A128KW", enc: "A256CBC-HS512" }).setExpirationTime("1h").encrypt(new TextEncoder().encode(SECRET));
    for (const token of [wrapped, small, pbes]) {
      expect(await accepts(ours(token))).toBe(false);
      expect(await accepts(theirs(token))).toBe(false);
    }
  });

  it("a kid-less token is accepted only under the real key (as Auth.js does); kid-less under any other key is refused", async () => {
    const key = derived(SECRET, PLAIN, 64);
    expect(await ours(await seal({ alg: "dir", enc: "A256CBC-HS512" }, key))).toMatchObject(CLAIMS);
    const foreign = derived("an attacker's own secret, long enough", PLAIN, 64);
    const forged = await seal({ alg: "dir", enc: "A256CBC-HS512" }, foreign);
    expect(await accepts(ours(forged))).toBe(false);
    expect(await accepts(theirs(forged))).toBe(false);
  });

  it("the real key under a wrong kid, or a kid naming the other cookie's key, is refused", async () => {
    const key = derived(SECRET, PLAIN, 64);
    const otherKid = await thumbprint(derived(SECRET, SECURE, 64));
    for (const kid of ["", "x", otherKid, (await thumbprint(key)).toUpperCase()]) {
      const token = await seal({ alg: "dir", enc: "A256CBC-HS512", kid }, key);
      expect(await accepts(ours(token)), kid).toBe(false);
      expect(await accepts(theirs(token)), kid).toBe(false);
    }
  });

  it("a token sealed for __Secure-authjs.session-token is refused as authjs.session-token, and the other way round", async () => {
    const secure = await encodeSession({ token: CLAIMS, secret: SECRET, salt: SECURE, maxAge: 3600 });
    const plain = await encodeSession({ token: CLAIMS, secret: SECRET, salt: PLAIN, maxAge: 3600 });
    await expect(ours(secure, PLAIN)).rejects.toThrow();
    await expect(ours(plain, SECURE)).rejects.toThrow();
    expect(await ours(secure, SECURE)).toMatchObject(CLAIMS);
    // Auth.js's own secure cookie, read by the app as the plain one: refused.
    await expect(ours(await authEncode({ token: CLAIMS, secret: SECRET, salt: SECURE, maxAge: 3600 }), PLAIN)).rejects.toThrow();
  });

  it("a key derived from an empty secret opens nothing, and an empty secret neither seals nor opens", async () => {
    const empty = derived("", PLAIN, 64);
    const forged = await seal({ alg: "dir", enc: "A256CBC-HS512", kid: await thumbprint(empty) }, empty);
    await expect(ours(forged)).rejects.toThrow();
    await expect(ours(forged, PLAIN, "")).rejects.toThrow(/AUTH_SECRET/);
    await expect(ours(forged, PLAIN, ["", SECRET])).rejects.toThrow();
    await expect(encodeSession({ token: CLAIMS, secret: "", salt: PLAIN, maxAge: 3600 })).rejects.toThrow(/AUTH_SECRET/);
  });

  it("expiry: within Auth.js's 15 s tolerance accepted as by Auth.js, past it refused; nbf in the future refused", async () => {
    const key = derived(SECRET, PLAIN, 64);
    const kid = await thumbprint(key);
    const header = { alg: "dir", enc: "A256CBC-HS512", kid };
    const recent = await seal(header, key, { ...CLAIMS, exp: now() - 5 });
    expect(await accepts(ours(recent))).toBe(await accepts(theirs(recent)));
    const expired = await seal(header, key, { ...CLAIMS, exp: now() - 60 });
    expect(await accepts(ours(expired))).toBe(false);
    const early = await seal(header, key, { ...CLAIMS, exp: now() + 3600, nbf: now() + 600 });
    expect(await accepts(ours(early))).toBe(false);
    const badExp = await seal(header, key, { ...CLAIMS, exp: "tomorrow" });
    expect(await accepts(ours(badExp))).toBe(false);
  });

  it("compressed (zip: DEF) or crit-extended headers are refused", async () => {
    const key = derived(SECRET, PLAIN, 64);
    const kid = await thumbprint(key);
    const zipped = [base64url.encode(JSON.stringify({ alg: "dir", enc: "A256CBC-HS512", kid, zip: "DEF" })), ...(await seal({ alg: "dir", enc: "A256CBC-HS512", kid }, key)).split(".").slice(1)].join(".");
    expect(await accepts(ours(zipped))).toBe(false);
    const crit = await seal({ alg: "dir", enc: "A256CBC-HS512", kid, crit: ["exp"], exp: 1 }, key).catch(() => null);
    if (crit) expect(await accepts(ours(crit))).toBe(false);
  });

  it("a payload that is not a claims object (array, string, number, invalid JSON) is refused", async () => {
    const key = derived(SECRET, PLAIN, 64);
    const kid = await thumbprint(key);
    for (const text of ["[]", '"x"', "1", "null", "{", "\u0000"]) {
      const token = await new CompactEncrypt(new TextEncoder().encode(text)).setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid }).encrypt(key);
      expect(await accepts(ours(token)), text).toBe(false);
    }
  });

  it("an altered protected header (kid dropped after sealing) fails the tag: the header is the associated data", async () => {
    const real = await encodeSession({ token: CLAIMS, secret: SECRET, salt: PLAIN, maxAge: 3600 });
    const parts = real.split(".");
    parts[0] = base64url.encode(JSON.stringify({ alg: "dir", enc: "A256CBC-HS512" }));
    await expect(ours(parts.join("."))).rejects.toThrow();
  });

  it("every single-byte change of a real token anywhere: refused by the app whenever Auth.js refuses it", async () => {
    const real = await encodeSession({ token: CLAIMS, secret: SECRET, salt: PLAIN, maxAge: 3600 });
    let oursAccepted = 0;
    for (let i = 0; i < real.length; i += 3) {
      const c = real[i] === "." ? "A" : real[i] === "A" ? "B" : "A";
      const mutated = real.slice(0, i) + c + real.slice(i + 1);
      const [a, b] = [await accepts(ours(mutated)), await accepts(theirs(mutated))];
      if (a) oursAccepted++;
      if (a) expect(b, `position ${i}`).toBe(true);
    }
    // base64url's last character may carry unused bits: a change there can decode to the same bytes.
    expect(oursAccepted).toBeLessThanOrEqual(5);
  });

  it("a secret list (key rotation) is not half-read: the app takes only the first and says so by refusing the second's tokens", async () => {
    const old = "the previous auth secret, long enough 0123456789";
    const issuedUnderOld = await authEncode({ token: CLAIMS, secret: old, salt: PLAIN, maxAge: 3600 });
    expect(await accepts(theirs(issuedUnderOld, PLAIN, [SECRET, old]))).toBe(true);
    expect(await accepts(ours(issuedUnderOld, PLAIN, [SECRET, old]))).toBe(false);
  });
});
