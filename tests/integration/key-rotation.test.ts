import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeSignIn } from "@/lib/auth/second-step";
import { reencryptTotpSecrets } from "@/lib/two-factor/reencrypt";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, CONTEXT, enrolledUser, openChallenge, rewindLastUsedStep, totpRow } from "./support/fixtures";

const state = globalThis as typeof globalThis & { __secrets?: unknown };

/** Sets TOTP_ENCRYPTION_KEY as a deployment would, and makes lib/env.ts read it again. */
function useKeys(...keys: string[]): void {
  process.env.TOTP_ENCRYPTION_KEY = keys.join(",");
  state.__secrets = undefined;
}

describe.each(testDrivers())("rotating the TOTP encryption key on %s", (driver) => {
  const t = useTestDatabase(driver);
  const original = process.env.TOTP_ENCRYPTION_KEY;
  const oldKey = randomBytes(32).toString("base64");
  const newKey = randomBytes(32).toString("base64");
  beforeAll(() => useKeys(oldKey));
  afterAll(() => useKeys(...(original ? [original] : [])));

  it("old keys still decrypt, new writes use the newest, re-encryption lets the old key go", async () => {
    useKeys(oldKey);
    const before = await enrolledUser(t.db);
    const oldCiphertext = (await totpRow(t.db, before.id))!.secretCiphertext;

    // Step 2 of docs/DEPLOY.md: the new key first, the old one still listed.
    useKeys(newKey, oldKey);
    const signIn = await completeSignIn(t.db, { challenge: await openChallenge(t.db, before), method: "totp", code: codeAt(before.secret) }, CONTEXT);
    expect(signIn.ok, "a secret written with the old key still signs in").toBe(true);
    const after = await enrolledUser(t.db);
    expect((await totpRow(t.db, after.id))!.secretCiphertext.split(".")[1], "a new enrollment uses the newest key").not.toBe(oldCiphertext.split(".")[1]);

    // Step 3: re-encrypt, then drop the old key.
    const result = await reencryptTotpSecrets(t.db);
    expect(result.unreadable).toBe(0);
    expect(result.reencrypted).toBeGreaterThanOrEqual(1);
    expect((await totpRow(t.db, before.id))!.secretCiphertext).not.toBe(oldCiphertext);
    expect(await reencryptTotpSecrets(t.db), "a second run finds nothing to do").toMatchObject({ reencrypted: 0, unreadable: 0 });

    useKeys(newKey);
    await rewindLastUsedStep(t.db, before.id); // the code of this step was used above
    const later = await completeSignIn(t.db, { challenge: await openChallenge(t.db, before), method: "totp", code: codeAt(before.secret) }, CONTEXT);
    expect(later.ok, "after re-encryption the old key is no longer needed").toBe(true);
  });

  it("a secret no listed key decrypts is counted and left as it is, not printed", async () => {
    useKeys(oldKey);
    const user = await enrolledUser(t.db);
    const stored = (await totpRow(t.db, user.id))!.secretCiphertext;
    useKeys(newKey); // the old key forgotten too early
    const logged: string[] = [];
    const error = console.error;
    console.error = (...args: unknown[]) => void logged.push(args.join(" "));
    try {
      const result = await reencryptTotpSecrets(t.db);
      expect(result.unreadable).toBeGreaterThanOrEqual(1);
    } finally {
      console.error = error;
    }
    expect((await totpRow(t.db, user.id))!.secretCiphertext).toBe(stored);
    expect(logged.join("\n")).not.toContain(user.secret);
  });
});
