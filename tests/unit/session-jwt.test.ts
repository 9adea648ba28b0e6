import { describe, expect, it } from "vitest";
import { decode as authDecode, encode as authEncode } from "next-auth/jwt";
import { decodeSession, encodeSession } from "@/lib/auth/session-jwt";

// The session cookie with the key derived once: it must stay Auth.js's own format, both ways,
// so that the switch logs nobody out and Auth.js's checks all still hold.
const SECRET = "unit-test-auth-secret-0123456789abcdef0123456789";
const SALT = "authjs.session-token";
const TOKEN = { sub: "5b0c3c4e-4a51-4c3e-9f0b-8f5a2a8e0c01", sid: "b1d4", sv: 3, authTime: 1_700_000_000 };
const params = { secret: SECRET, salt: SALT, maxAge: 3600 };

describe("the session cookie's JWE", () => {
  it("is read by Auth.js's own decode, with every claim and an expiry maxAge away", async () => {
    const payload = await authDecode({ token: await encodeSession({ ...params, token: TOKEN }), secret: SECRET, salt: SALT });
    expect(payload).toMatchObject(TOKEN);
    expect(Number(payload!.exp) - Number(payload!.iat)).toBe(3600);
    expect(typeof payload!.jti).toBe("string");
  });

  it("reads what Auth.js's own encode issued (cookies from before the switch stay signed in)", async () => {
    const issued = await authEncode({ ...params, token: TOKEN });
    expect(await decodeSession({ token: issued, secret: SECRET, salt: SALT })).toMatchObject(TOKEN);
  });

  it("carries the same header as Auth.js: dir, A256CBC-HS512 and the key's thumbprint as kid", async () => {
    const ours = JSON.parse(Buffer.from((await encodeSession({ ...params, token: TOKEN })).split(".")[0], "base64url").toString());
    const theirs = JSON.parse(Buffer.from((await authEncode({ ...params, token: TOKEN })).split(".")[0], "base64url").toString());
    expect(ours).toEqual(theirs);
  });

  it("forged or altered cookies are refused: another secret, another cookie name, a flipped byte", async () => {
    const issued = await encodeSession({ ...params, token: TOKEN });
    await expect(decodeSession({ token: issued, secret: `${SECRET}x`, salt: SALT })).rejects.toThrow();
    await expect(decodeSession({ token: issued, secret: SECRET, salt: "__Secure-authjs.session-token" })).rejects.toThrow();
    const parts = issued.split(".");
    const cipher = Buffer.from(parts[3], "base64url");
    cipher[0] ^= 1;
    parts[3] = cipher.toString("base64url");
    await expect(decodeSession({ token: parts.join("."), secret: SECRET, salt: SALT })).rejects.toThrow();
    const forged = await authEncode({ ...params, secret: "an attacker's own secret, long enough", token: TOKEN });
    await expect(decodeSession({ token: forged, secret: SECRET, salt: SALT })).rejects.toThrow();
  });

  it("an expired cookie is refused (past the 15 s clock tolerance)", async () => {
    const expired = await encodeSession({ ...params, maxAge: -20, token: TOKEN });
    await expect(decodeSession({ token: expired, secret: SECRET, salt: SALT })).rejects.toThrow(/exp/);
  });

  it("no cookie is no session, not an error", async () => {
    expect(await decodeSession({ token: undefined, secret: SECRET, salt: SALT })).toBeNull();
  });
});
