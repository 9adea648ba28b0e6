import { eq, sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { instanceSettings, trustedBrowsers } from "@/db/schema";
import { saveSecuritySettings } from "@/lib/admin/security-settings";
import { updateUserProperties } from "@/lib/admin/user-properties";
import { completeSignIn } from "@/lib/auth/second-step";
import { sha256Hex } from "@/lib/crypto";
import { getSettings } from "@/lib/settings";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { disableTwoFactor } from "@/lib/two-factor/manage";
import { describeBrowser, forgetTrustedBrowsers } from "@/lib/two-factor/trusted-browsers";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, confirmedSession, CONTEXT, enrolledUser, newUser, openChallenge, rewindLastUsedStep, type EnrolledUser } from "./support/fixtures";

describe.each(testDrivers())("trusted browsers on %s", (driver) => {
  const t = useTestDatabase(driver);
  const allowTrust = async (on: boolean, days = 30) => {
    await getSettings(t.db); // the settings row exists from the first read on
    await t.db.update(instanceSettings).set({ trustBrowserEnabled: on, trustBrowserDays: days }).where(eq(instanceSettings.id, 1));
  };

  beforeEach(async () => {
    await allowTrust(true);
  });

  /** Signs in with a code and "Trust this browser"; returns the cookie token. */
  async function trustedUser(): Promise<EnrolledUser & { token: string }> {
    const user = await enrolledUser(t.db);
    const result = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "totp", code: codeAt(user.secret), trust: true }, CONTEXT);
    if (!result.ok || !result.trustToken) throw new Error("no trust token");
    await rewindLastUsedStep(t.db, user.id);
    return { ...user, token: result.trustToken };
  }
  const signInTrusted = async (user: EnrolledUser, token: string) =>
    completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "trusted", code: "", trustToken: token }, CONTEXT);

  it("a trusted browser skips the code step, and only its SHA-256 is stored", async () => {
    const user = await trustedUser();
    const [row] = await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, user.id));
    expect(row.tokenHash).toBe(sha256Hex(user.token));
    expect(JSON.stringify(row)).not.toContain(user.token);
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBeCloseTo(30 * 24 * 3600 * 1000, -4);
    const result = await signInTrusted(user, user.token);
    expect(result.ok).toBe(true);
    const [used] = await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, user.id));
    expect(used.lastUsedAt).not.toBeNull();
    expect(used.expiresAt).toEqual(row.expiresAt); // use does not extend it
  });

  it("trust is not offered while the option is off", async () => {
    await allowTrust(false);
    const user = await enrolledUser(t.db);
    const result = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "totp", code: codeAt(user.secret), trust: true }, CONTEXT);
    expect(result).toMatchObject({ ok: true, trustToken: undefined });
  });

  it("another user's password in a trusted browser still gets the code step (token bound to its user)", async () => {
    const alice = await trustedUser();
    const bob = await enrolledUser(t.db);
    expect(await signInTrusted(bob, alice.token)).toEqual({ ok: false, error: "not_trusted" });
  });

  it("a forged browser id cannot remove another user's trusted browser (Remove acts on the caller's own only)", async () => {
    const alice = await trustedUser();
    const mallory = await enrolledUser(t.db);
    const [aliceBrowser] = await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, alice.id));
    expect(await forgetTrustedBrowsers(t.db, mallory.id, aliceBrowser.id, mallory.id, CONTEXT, "removed_by_user")).toBe(0);
    expect((await signInTrusted(alice, alice.token)).ok).toBe(true);
  });

  it("a forged or unknown token is refused", async () => {
    const user = await trustedUser();
    expect(await signInTrusted(user, "A".repeat(43))).toEqual({ ok: false, error: "not_trusted" });
    expect(await signInTrusted(user, "")).toEqual({ ok: false, error: "not_trusted" });
  });

  it("expiry is fixed, and lowering the days cuts existing trust short", async () => {
    const user = await trustedUser();
    await t.db.update(trustedBrowsers).set({ createdAt: sql`now() - interval '10 days'` }).where(eq(trustedBrowsers.userId, user.id));
    await allowTrust(true, 7);
    expect(await signInTrusted(user, user.token)).toEqual({ ok: false, error: "not_trusted" });
    await allowTrust(true, 30);
    expect((await signInTrusted(user, user.token)).ok).toBe(true);
    await t.db.update(trustedBrowsers).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(trustedBrowsers.userId, user.id));
    expect(await signInTrusted(user, user.token)).toEqual({ ok: false, error: "not_trusted" });
  });

  const revocations: [string, (user: EnrolledUser & { token: string }) => Promise<unknown>][] = [
    ["the user uses a recovery code", async (u) => completeSignIn(t.db, { challenge: await openChallenge(t.db, u), method: "recovery", code: u.recoveryCodes[0] }, CONTEXT)],
    ["the user disables 2FA", async (u) => disableTwoFactor(t.db, u.id, codeAt(u.secret), CONTEXT)],
    ["an admin unticks the user's 2FA", async (u) => {
      const admin = await newUser(t.db, { admin: true });
      return updateUserProperties(t.db, await confirmedSession(t.db, admin), u.id, { name: u.name, email: u.email, admin: false, twoFactorEnabled: false }, CONTEXT);
    }],
    ["an admin turns the option off", async () => {
      const admin = await newUser(t.db, { admin: true });
      await saveSecuritySettings(t.db, await confirmedSession(t.db, admin), { twoFactorEnabled: true, trustBrowserEnabled: false, trustBrowserDays: 30, requireTwoFactorFor: "nobody", requireGraceDays: 0 }, CONTEXT);
      await allowTrust(true);
    }],
  ];
  it.each(revocations)("an old trust cookie stops working when %s", async (_name, revoke) => {
    const user = await trustedUser();
    await revoke(user);
    expect(await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, user.id))).toHaveLength(0);
  });

  it("re-enrolling revokes trust given under the old secret", async () => {
    const user = await trustedUser();
    await disableTwoFactor(t.db, user.id, codeAt(user.secret), CONTEXT);
    const started = await startEnrollment(t.db, user);
    if (!started.ok) throw new Error("no enrollment");
    await confirmEnrollment(t.db, user.id, codeAt(started.secret), CONTEXT);
    expect(await signInTrusted({ ...user, secret: started.secret }, user.token)).toEqual({ ok: false, error: "not_trusted" });
  });

  it("no trusted browser is honoured while the option is off", async () => {
    const user = await trustedUser();
    await allowTrust(false);
    expect(await signInTrusted(user, user.token)).toEqual({ ok: false, error: "not_trusted" });
  });
});

describe("browser description", () => {
  it("names the browser and system from the user agent", () => {
    expect(describeBrowser("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")).toBe("Chrome on Windows");
    expect(describeBrowser("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1")).toBe("Safari on iOS");
    expect(describeBrowser(null)).toBe("A browser on an unknown system");
  });
});
