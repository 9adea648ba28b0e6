import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { instanceSettings, webauthnChallenges } from "@/db/schema";
import { sha256Hex } from "@/lib/crypto";
import { issueWebauthnChallenge } from "@/lib/security-keys/challenges";
import { completePasskeySignIn, startPasskeySignIn } from "@/lib/security-keys/passkey-sign-in";
import { startKeySignIn } from "@/lib/security-keys/sign-in";
import { getSettings } from "@/lib/settings";
import { testDrivers, useTestDatabase } from "./support/databases";
import { CONTEXT, eventNamesAbout, newUser, openChallenge } from "./support/fixtures";
import { addKey } from "./support/security-keys";
import { runAsTestRelyingParty } from "./support/software-key";

runAsTestRelyingParty();

// Issue 12, slice 2: Sign in with a passkey. Each test is named by the attack it tries.
describe.each(testDrivers())("passkey sign-in on %s", (driver) => {
  const t = useTestDatabase(driver);
  const PASSKEY = { discoverable: true, userVerified: true };

  async function allow(on: boolean) {
    await getSettings(t.db);
    await t.db.update(instanceSettings).set({ passkeySignInEnabled: on }).where(eq(instanceSettings.id, 1));
  }

  async function prompt() {
    const started = await startPasskeySignIn(t.db, CONTEXT);
    if (!started.ok) throw new Error(started.error);
    return started;
  }

  it("a discoverable key with user verification signs in alone, once per challenge; the prompt allows any passkey and requires verification", async () => {
    await allow(true);
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user, PASSKEY);
    const { challenge, options } = await prompt();
    expect(options.allowCredentials).toEqual([]);
    expect(options.userVerification).toBe("required");
    const assertion = key.assert(options);
    expect(await completePasskeySignIn(t.db, { challenge, assertion }, CONTEXT)).toMatchObject({ ok: true, user: { id: user.id } });
    expect(await eventNamesAbout(t.db, user.id)).toEqual(expect.arrayContaining(["security_key.used", "sign_in.succeeded"]));
    // The same assertion again (a replay): its challenge was used.
    expect(await completePasskeySignIn(t.db, { challenge, assertion }, CONTEXT)).toEqual({ ok: false, error: "invalid" });
  });

  it("passkey sign-in not allowed (the default): no prompt, and an assertion over an earlier challenge is refused", async () => {
    await allow(true);
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user, PASSKEY);
    const { challenge, options } = await prompt();
    await allow(false);
    expect(await startPasskeySignIn(t.db, CONTEXT)).toEqual({ ok: false, error: "not_allowed" });
    expect(await completePasskeySignIn(t.db, { challenge, assertion: key.assert(options) }, CONTEXT)).toEqual({ ok: false, error: "not_allowed" });
  });

  it("a plain security key (not discoverable) and a key registered without user verification stay second factors: refused at passkey sign-in", async () => {
    await allow(true);
    for (const options of [{ discoverable: false, userVerified: true }, { discoverable: true, userVerified: false }]) {
      const user = await newUser(t.db);
      const { key } = await addKey(t.db, user, options);
      const started = await prompt();
      // The second: a key without verification signs the UV flag off too; it is refused before the passkey check.
      const answer = await completePasskeySignIn(t.db, { challenge: started.challenge, assertion: key.assert(started.options, { userVerified: true }) }, CONTEXT);
      expect(answer).toEqual({ ok: false, error: "not_a_passkey" });
      expect(await eventNamesAbout(t.db, user.id)).not.toContain("sign_in.succeeded");
    }
  });

  it("a passkey touched without user verification (UV flag off): refused, as verification is required", async () => {
    await allow(true);
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user, PASSKEY);
    const { challenge, options } = await prompt();
    expect(await completePasskeySignIn(t.db, { challenge, assertion: key.assert(options, { userVerified: false }) }, CONTEXT)).toEqual({ ok: false, error: "invalid" });
  });

  it("an assertion over another browser's passkey challenge (not the one in this browser's cookie): refused, and the other browser's stays usable", async () => {
    await allow(true);
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user, PASSKEY);
    const mine = await prompt();
    const theirs = await prompt();
    expect(await completePasskeySignIn(t.db, { challenge: mine.challenge, assertion: key.assert(theirs.options) }, CONTEXT)).toEqual({ ok: false, error: "invalid" });
    expect((await completePasskeySignIn(t.db, { challenge: theirs.challenge, assertion: key.assert(theirs.options) }, CONTEXT)).ok).toBe(true);
  });

  it("a second step's WebAuthn challenge (a pending sign-in's, after the password) used for passkey sign-in: refused", async () => {
    await allow(true);
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user, PASSKEY);
    const pending = await openChallenge(t.db, user);
    const started = await startKeySignIn(t.db, pending);
    if (!started.ok) throw new Error(started.error);
    const challenge = started.options.challenge;
    expect(await completePasskeySignIn(t.db, { challenge, assertion: key.assert(started.options) }, CONTEXT)).toEqual({ ok: false, error: "invalid" });
    const bound = await issueWebauthnChallenge(t.db, { purpose: "sign_in", userId: user.id, signInChallengeHash: sha256Hex(pending) });
    expect(await completePasskeySignIn(t.db, { challenge: bound!, assertion: key.assert({ challenge: bound! }) }, CONTEXT)).toEqual({ ok: false, error: "invalid" });
  });

  it("another user's user handle on this passkey's assertion: refused", async () => {
    await allow(true);
    const [owner, other] = [await newUser(t.db), await newUser(t.db)];
    const { key } = await addKey(t.db, owner, PASSKEY);
    const { key: otherKey } = await addKey(t.db, other, PASSKEY);
    const { challenge, options } = await prompt();
    expect(await completePasskeySignIn(t.db, { challenge, assertion: key.assert(options, { userHandle: otherKey.userHandle }) }, CONTEXT)).toEqual({ ok: false, error: "invalid" });
  });

  it("one assertion sent 10 times in parallel: one session", async () => {
    await allow(true);
    const user = await newUser(t.db);
    const { key } = await addKey(t.db, user, PASSKEY);
    const { challenge, options } = await prompt();
    const assertion = key.assert(options);
    const results = await Promise.all(Array.from({ length: 10 }, () => completePasskeySignIn(t.db, { challenge, assertion }, CONTEXT)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it("prompts asked by one address beyond the limit (300 in 10 minutes) are refused, without a challenge written", async () => {
    await allow(true);
    const context = { ...CONTEXT, ip: "198.51.100.77" };
    for (let i = 0; i < 300; i++) expect((await startPasskeySignIn(t.db, context)).ok).toBe(true);
    const before = (await t.db.select().from(webauthnChallenges)).length;
    expect(await startPasskeySignIn(t.db, context)).toEqual({ ok: false, error: "rate_limited" });
    expect((await t.db.select().from(webauthnChallenges)).length).toBe(before);
  });

  it("malformed assertions and a missing or oversized challenge: refused, never an exception", async () => {
    await allow(true);
    const { challenge } = await prompt();
    for (const assertion of [undefined, null, "text", 42, [], {}, { id: "A".repeat(5000) }]) {
      expect(await completePasskeySignIn(t.db, { challenge, assertion }, CONTEXT)).toEqual({ ok: false, error: "invalid" });
    }
    expect(await completePasskeySignIn(t.db, { challenge: "", assertion: {} }, CONTEXT)).toEqual({ ok: false, error: "invalid" });
    expect(await completePasskeySignIn(t.db, { challenge: "x".repeat(1000), assertion: {} }, CONTEXT)).toEqual({ ok: false, error: "invalid" });
  });
});
