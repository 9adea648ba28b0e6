import { expect, test, type BrowserContext, type Page } from "@playwright/test";
import { enrollTwoFactor, freshCode, openMySettings, signIn, signOut, submitPassword } from "../e2e/fixtures/app";
import { dumpAllTables, withDatabase } from "./support/database-dump";
import { freePort } from "./support/free-port";
import { cli, createStorage, DRIVERS, startServer } from "./support/server";

/**
 * A full journey in Chromium against a server of this file's own, then a
 * search for every secret it produced — in the server's log, and in every
 * column of every table (PostgreSQL as text, in the spellings a careless
 * implementation would use). Stolen logs or a database dump must yield
 * nothing that signs anyone in.
 */

const ADMIN = { name: "Secret Keeper", email: "keeper@example.com", password: "granite lemon sparrow 51" };
const SECRET_COOKIES = ["signin-challenge", "trusted-browser", "authjs.session-token"];
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32Bytes(secret: string): Buffer {
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) bits += BASE32.indexOf(c).toString(2).padStart(5, "0");
  return Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
}

/** Every spelling under which a secret could leak. */
class Secrets {
  readonly all = new Map<string, string>(); // value → what it is

  add(kind: string, value: string): void {
    if (value) this.all.set(value, kind);
  }

  totpSecret(base32: string): void {
    const bytes = base32Bytes(base32);
    expect(bytes.length, "the setup key is 20 bytes").toBe(20);
    this.add("setup key (base32)", base32);
    this.add("setup key (hex)", bytes.toString("hex"));
    this.add("setup key (base64)", bytes.toString("base64").replace(/=+$/, ""));
    this.add("setup key (base64url)", bytes.toString("base64url"));
  }

  recoveryCode(code: string): void {
    this.add("recovery code", code);
    this.add("recovery code (normalised)", code.replace(/-/g, ""));
  }

  async cookies(context: BrowserContext): Promise<void> {
    for (const cookie of await context.cookies()) if (SECRET_COOKIES.includes(cookie.name)) this.add(`${cookie.name} cookie`, cookie.value);
  }

  /** Which secrets `text` contains (case-insensitive: an encoding may change the case). */
  foundIn(text: string): string[] {
    const haystack = text.toLowerCase();
    return [...this.all].filter(([value]) => haystack.includes(value.toLowerCase())).map(([value, kind]) => `${kind} ${value.slice(0, 12)}…`);
  }
}

async function expectSignedIn(page: Page): Promise<void> {
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
}

// Each journey waits for two new 30-second TOTP steps: the drivers run side by side.
test.describe.configure({ mode: "parallel" });

for (const driver of DRIVERS) {
  test(`on ${driver}: a stolen server log or database dump holds no setup key, recovery code, challenge, trust or session token`, async ({ browser }) => {
    test.setTimeout(240_000);
    const { storage, remove: cleanup } = await createStorage(driver);
    const secrets = new Secrets();
    secrets.add("password", ADMIN.password);
    cli(storage, "create-user", "--email", ADMIN.email, "--password", ADMIN.password, "--name", ADMIN.name, "--admin");
    const server = await startServer(await freePort(), storage);
    try {
      // Sign in, enrol: the Setup key and the first recovery codes.
      const first = await browser.newContext({ baseURL: server.url });
      const page = await first.newPage();
      await signIn(page, ADMIN);
      await secrets.cookies(first);
      const enrolled = await enrollTwoFactor(page);
      secrets.totpSecret(enrolled.secret);
      enrolled.recoveryCodes.forEach((code) => secrets.recoveryCode(code));
      await secrets.cookies(first);

      // The instance lets users trust their browser.
      await page.goto("/admin/settings");
      await page.getByLabel("Allow users to trust the browser").check();
      await page.getByRole("button", { name: "Save" }).click();
      // Allowing trusted browsers weakens sign-in: this session confirms with a current code first.
      const confirmation = page.getByRole("dialog", { name: "Confirm the change" });
      const confirmed = await freshCode(enrolled.secret, enrolled.lastStep);
      await confirmation.getByLabel("Authentication code").fill(confirmed.code);
      await confirmation.getByRole("button", { name: "Confirm" }).click();
      await expect(page.getByText("Saved.")).toBeVisible();

      // Sign out; sign in with a code, trusting this browser: a challenge, a trust token, a session.
      await signOut(page);
      await submitPassword(page, ADMIN.email, ADMIN.password);
      await expect(page.getByLabel("Authentication code")).toBeVisible();
      await secrets.cookies(first);
      const code = await freshCode(enrolled.secret, confirmed.step);
      await page.getByLabel("Authentication code").fill(code.code);
      await page.getByLabel("Trust this browser").check();
      await page.getByRole("button", { name: "Verify" }).click();
      await expectSignedIn(page);
      await secrets.cookies(first);
      expect([...secrets.all.values()], "the trust cookie was set").toContain("trusted-browser cookie");
      await signOut(page);

      // Another browser, with a recovery code.
      const second = await browser.newContext({ baseURL: server.url });
      const other = await second.newPage();
      await submitPassword(other, ADMIN.email, ADMIN.password);
      await other.getByRole("button", { name: "Use a recovery code" }).click();
      await secrets.cookies(second);
      await other.getByLabel("Recovery code").fill(enrolled.recoveryCodes[0]);
      await other.getByRole("button", { name: "Verify" }).click();
      await expectSignedIn(other);
      await secrets.cookies(second);

      // New recovery codes, after a current code.
      const settings = await openMySettings(other);
      await settings.getByRole("button", { name: "Recovery codes" }).click();
      await settings.getByRole("button", { name: "Generate new codes" }).click();
      const next = await freshCode(enrolled.secret, code.step);
      await settings.getByLabel("Authentication code").fill(next.code);
      await settings.getByRole("button", { name: "Generate new codes" }).click();
      const list = settings.getByRole("list", { name: "Recovery codes" });
      await expect(list.getByRole("listitem")).toHaveCount(10);
      const regenerated = await list.getByRole("listitem").allInnerTexts();
      expect(regenerated.filter((c) => enrolled.recoveryCodes.includes(c)), "a new set").toEqual([]);
      regenerated.forEach((c) => secrets.recoveryCode(c.trim()));
      await first.close();
      await second.close();
    } finally {
      await server.stop(); // the log is complete, and PGlite's folder can be opened
    }
    try {
      const kinds = new Set(secrets.all.values());
      for (const kind of ["setup key (base32)", "recovery code", "signin-challenge cookie", "trusted-browser cookie", "authjs.session-token cookie"]) {
        expect(kinds, `collected a ${kind}`).toContain(kind);
      }
      const log = server.log();
      expect(log, "the log is the server's").toContain("[start] database:");
      expect(secrets.foundIn(log), "secrets in the server log").toEqual([]);

      const dump = await withDatabase(storage, dumpAllTables);
      expect(dump.get("public.totp_credentials"), "the dump holds the (encrypted) secret").toHaveLength(1);
      expect(dump.get("public.recovery_codes")!.length, "and the (hashed) codes").toBeGreaterThanOrEqual(10);
      const leaks = [...dump].flatMap(([table, rows]) => secrets.foundIn(rows.join("\n")).map((found) => `${found} in ${table}`));
      expect(leaks, "secrets in the database").toEqual([]);
    } finally {
      await cleanup();
    }
  });
}
