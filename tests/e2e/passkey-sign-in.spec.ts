import type { Browser, BrowserContext, Page } from "@playwright/test";
import { expect, test } from "./fixtures/test";
import { ADMIN, addOnlySecurityKey, addUser, confirmWithPassword, newUser, signIn, signOut } from "./fixtures/app";
import { addVirtualKey, type KeyKind, type VirtualKey } from "./fixtures/authenticator";
import { expectNoAxeViolations } from "./fixtures/axe";

// Issue 12, slice 2. Allows passkey sign-in for the whole instance: runs in a project of its own (playwright.config.ts).

const PLATFORM_PASSKEY: KeyKind = { transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true };

async function setPasskeySignIn(browser: Browser, baseURL: string, on: boolean): Promise<void> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signIn(page, ADMIN);
  await page.goto("/admin/settings");
  const box = page.getByLabel("Allow sign-in with a passkey");
  if (on) await box.check();
  else await box.uncheck();
  await page.getByRole("button", { name: "Save" }).click();
  // Turning it on is a new way in without the password: confirmed (unless it was on already, after a failed run).
  const confirm = page.getByRole("button", { name: "Confirm" });
  await expect(page.getByText("Saved.").or(confirm)).toBeVisible();
  if (await confirm.isVisible()) await confirmWithPassword(page, ADMIN.password);
  await expect(page.getByText("Saved.")).toBeVisible();
  await context.close();
}

test("Sign in with a passkey: allowed by an administrator (confirmed), a passkey signs in with no password or code; off again, the button is gone", async ({ page, browser, baseURL }) => {
  test.setTimeout(240_000);
  const user = await addUser(browser, baseURL!, newUser("Passkey"));
  await page.goto("/login");
  await expect(page.getByRole("button", { name: "Sign in with a passkey" })).toHaveCount(0);
  await expect(page.getByLabel("Email")).toHaveAttribute("autocomplete", "username");

  await setPasskeySignIn(browser, baseURL!, true);
  const passkey = await addVirtualKey(page, PLATFORM_PASSKEY);
  // The passkey as last used: a copy signs with the next counter, and an older copy would be a cloned key (refused).
  let latest: Pick<VirtualKey, "exportCredentials"> = passkey;
  try {
    await signIn(page, user);
    await addOnlySecurityKey(page, user);
    const keys = page.getByRole("dialog", { name: "My Settings" }).getByRole("region", { name: "Security keys" });
    await expect(keys.getByTestId("security-key")).toContainText("signs in on its own (passkey)");
    await page.getByRole("dialog", { name: "My Settings" }).getByRole("button", { name: "Close" }).click();
    await signOut(page);

    // The Email field's autofill: Chromium's virtual authenticator answers the page's conditional request at once,
    // as a user picking the passkey from the field's suggestions would. No password, no code.
    await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
    await expect(page.getByRole("banner")).toContainText(user.name);

    // The button, in a browser without autofill (its conditional request never starts), holding the same passkey.
    const noAutofill = await browser.newContext({ baseURL });
    await noAutofill.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    const { page: other, key: copy } = await withPasskeyOf(noAutofill, latest);
    await other.goto("/login");
    await expect(other.getByLabel("Email")).toHaveAttribute("autocomplete", "username webauthn");
    await expectNoAxeViolations(other, "login with Sign in with a passkey");
    await other.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect(other.getByRole("heading", { name: /Welcome/ })).toBeVisible();
    latest = await snapshot(copy);
    await noAutofill.close();
  } finally {
    await setPasskeySignIn(browser, baseURL!, false);
  }

  // Off again: a browser holding the passkey sees no button, and the key is a second factor after the password.
  const later = await browser.newContext({ baseURL });
  const { page: again } = await withPasskeyOf(later, latest);
  await again.goto("/login");
  await expect(again.getByRole("button", { name: "Sign in with a passkey" })).toHaveCount(0);
  await again.getByLabel("Email").fill(user.email);
  await again.getByLabel("Password").fill(user.password);
  await again.getByRole("button", { name: "Sign in", exact: true }).click();
  await again.getByRole("button", { name: "Use security key" }).click();
  await expect(again.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  await later.close();
});

/** A page of `context` whose authenticator holds a copy of `source`'s passkeys (a passkey synced to another device). */
async function withPasskeyOf(context: BrowserContext, source: Pick<VirtualKey, "exportCredentials">): Promise<{ page: Page; key: VirtualKey }> {
  const page = await context.newPage();
  const key = await addVirtualKey(page, PLATFORM_PASSKEY);
  for (const credential of await source.exportCredentials()) await key.importCredential(credential);
  return { page, key };
}

/** An authenticator's credentials as they are now, to copy after its page is gone. */
async function snapshot(key: VirtualKey): Promise<Pick<VirtualKey, "exportCredentials">> {
  const credentials = await key.exportCredentials();
  return { exportCredentials: async () => credentials };
}

test("a security key that is not a passkey (no resident credential) cannot sign in alone: the prompt finds nothing, the password step stays", async ({ page, browser, baseURL }) => {
  test.setTimeout(240_000);
  const user = await addUser(browser, baseURL!, newUser("PlainKey"));
  await setPasskeySignIn(browser, baseURL!, true);
  try {
    await addVirtualKey(page, { transport: "usb", hasResidentKey: false });
    await signIn(page, user);
    await addOnlySecurityKey(page, user);
    const keys = page.getByRole("dialog", { name: "My Settings" }).getByRole("region", { name: "Security keys" });
    await expect(keys.getByTestId("security-key")).not.toContainText("signs in on its own");
    await page.getByRole("dialog", { name: "My Settings" }).getByRole("button", { name: "Close" }).click();
    await signOut(page);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
    await expect(page.getByText(/did not answer|not accepted|cannot sign in on its own/)).toBeVisible({ timeout: 30_000 });
  } finally {
    await setPasskeySignIn(browser, baseURL!, false);
  }
});
