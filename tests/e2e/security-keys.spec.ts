import { readFileSync } from "node:fs";
import type { Locator, Page } from "@playwright/test";
import { expect, test } from "./fixtures/test";
import { addUser, enrollTwoFactor, freshCode, newUser, openMySettings, signIn, signOut, submitPassword, type Enrolled } from "./fixtures/app";
import { addVirtualKey } from "./fixtures/authenticator";
import { expectNoAxeViolations } from "./fixtures/axe";

// Issue 12, slice 1: security keys as a second factor, with Chromium's virtual authenticator (pages on localhost).

/** My Settings → Security keys → Add security key: the confirmation (a current code), the prompt, then Name → Save. */
async function addKey(page: Page, enrolled: Enrolled, name: string | null): Promise<Locator> {
  const dialog = await openMySettings(page);
  const keys = dialog.getByRole("region", { name: "Security keys" });
  await keys.getByRole("button", { name: "Add security key" }).click();
  const { code, step } = await freshCode(enrolled.secret, enrolled.lastStep);
  enrolled.lastStep = step;
  await keys.getByLabel("Authentication code").fill(code);
  await keys.getByRole("button", { name: "Confirm" }).click();
  const nameField = keys.getByLabel("Name");
  await expect(nameField).toBeVisible();
  if (name !== null) await nameField.fill(name);
  await keys.getByRole("button", { name: "Save" }).click();
  await expect(keys.getByText("Security key added.")).toBeVisible();
  return keys;
}

test("a security key: added in My Settings after a code, offered first at sign-in, used with a touch; the code stays one click away", async ({ page, browser, baseURL }) => {
  test.setTimeout(180_000);
  const user = await addUser(browser, baseURL!, newUser("Keys"));
  const key = await addVirtualKey(page);
  await signIn(page, user);
  const enrolled = await enrollTwoFactor(page);

  const keys = await addKey(page, enrolled, "YubiKey 5C");
  const row = keys.getByTestId("security-key");
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("YubiKey 5C");
  await expect(row).toContainText("This device only");
  await expect(row).toContainText("last used never");
  expect(await key.credentials()).toHaveLength(1);
  await expectNoAxeViolations(page, "My Settings, Security keys");
  await page.getByRole("dialog", { name: "My Settings" }).getByRole("button", { name: "Close" }).click();
  await signOut(page);

  // Offered first: one click, the key answers, signed in.
  await submitPassword(page, user.email, user.password);
  await expect(page.getByRole("heading", { name: "Two-factor authentication" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Use security key" })).toBeVisible();
  await expect(page.getByLabel("Authentication code")).toHaveCount(0);
  await expectNoAxeViolations(page, "login, Use security key");
  await page.getByRole("button", { name: "Use security key" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  expect((await key.credentials())[0].signCount).toBeGreaterThan(0);
  const settings = await openMySettings(page);
  await expect(settings.getByTestId("security-key")).not.toContainText("last used never");
  await settings.getByRole("button", { name: "Close" }).click();
  await signOut(page);

  // The switch: Authentication code, and from there back to the key or on to a recovery code.
  await submitPassword(page, user.email, user.password);
  await page.getByRole("button", { name: "Authentication code" }).click();
  await expect(page.getByRole("button", { name: "Use security key" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Use a recovery code" })).toBeVisible();
  const { code, step } = await freshCode(enrolled.secret, enrolled.lastStep);
  enrolled.lastStep = step;
  await page.getByLabel("Authentication code").fill(code);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
});

test("Rename and Remove: the new name is listed; after Remove the sign-in asks for the code again and the key is refused", async ({ page, browser, baseURL }) => {
  test.setTimeout(180_000);
  const user = await addUser(browser, baseURL!, newUser("KeyRemove"));
  await addVirtualKey(page);
  await signIn(page, user);
  const enrolled = await enrollTwoFactor(page);
  const keys = await addKey(page, enrolled, null);
  // The name offered: where the key lives is all the browser says (no attestation).
  await expect(keys.getByTestId("security-key")).toContainText("Security key");

  await keys.getByRole("button", { name: "Rename Security key" }).click();
  await keys.getByLabel("Name").fill("   ");
  await keys.getByRole("button", { name: "Save" }).click();
  await expect(keys.getByText("Enter a name of up to 64 characters.")).toBeVisible();
  await keys.getByLabel("Name").fill("Desk key");
  await keys.getByRole("button", { name: "Save" }).click();
  await expect(keys.getByText("Security key renamed.")).toBeVisible();
  await expect(keys.getByTestId("security-key")).toContainText("Desk key");

  // Within the 5 minutes of the confirmation Add asked for: Remove goes straight through.
  await keys.getByRole("button", { name: "Remove Desk key" }).click();
  await expect(keys.getByText("Security key removed.")).toBeVisible();
  await expect(keys.getByTestId("security-key")).toHaveCount(0);
  await page.getByRole("dialog", { name: "My Settings" }).getByRole("button", { name: "Close" }).click();
  await signOut(page);

  await submitPassword(page, user.email, user.password);
  await expect(page.getByLabel("Authentication code")).toBeVisible();
  await expect(page.getByRole("button", { name: "Use security key" })).toHaveCount(0);
});

test("Remove asks for a fresh code when the session has not confirmed, and Cancel keeps the key", async ({ page, browser, baseURL }) => {
  test.setTimeout(180_000);
  const user = await addUser(browser, baseURL!, newUser("KeyConfirm"));
  await addVirtualKey(page);
  await signIn(page, user);
  const enrolled = await enrollTwoFactor(page);
  await addKey(page, enrolled, "Travel key");
  await page.getByRole("dialog", { name: "My Settings" }).getByRole("button", { name: "Close" }).click();
  await signOut(page);
  // A new session: signing in with the key is not a confirmation.
  await submitPassword(page, user.email, user.password);
  await page.getByRole("button", { name: "Use security key" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  const dialog = await openMySettings(page);
  const keys = dialog.getByRole("region", { name: "Security keys" });
  await keys.getByRole("button", { name: "Remove Travel key" }).click();
  await expect(keys.getByLabel("Authentication code")).toBeVisible();
  await keys.getByRole("button", { name: "Cancel" }).click();
  await expect(keys.getByTestId("security-key")).toContainText("Travel key");
  await keys.getByRole("button", { name: "Remove Travel key" }).click();
  const { code } = await freshCode(enrolled.secret, enrolled.lastStep);
  await keys.getByLabel("Authentication code").fill(code);
  await keys.getByRole("button", { name: "Confirm" }).click();
  await expect(keys.getByText("Security key removed.")).toBeVisible();
  await expect(keys.getByTestId("security-key")).toHaveCount(0);
});

test("on a 375 px phone, Security keys and the Use security key step do not scroll sideways", async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const user = await addUser(browser, baseURL!, newUser("KeyPhone"));
  const phone = await browser.newContext({ baseURL, viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await addVirtualKey(page, { transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true });
  await signIn(page, user);
  const enrolled = await enrollTwoFactor(page);
  const keys = await addKey(page, enrolled, null);
  // A platform authenticator: the name says where the passkey lives.
  await expect(keys.getByTestId("security-key")).toContainText("Passkey on this device");
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  const dialog = page.getByRole("dialog", { name: "My Settings" });
  expect(await dialog.evaluate((element) => element.scrollWidth - element.clientWidth), "Security keys scroll sideways").toBeLessThanOrEqual(0);
  await dialog.getByRole("button", { name: "Close" }).click();
  await signOut(page);
  await submitPassword(page, user.email, user.password);
  await expect(page.getByRole("button", { name: "Use security key" })).toBeVisible();
  expect(await overflow(), "the key step scrolls sideways").toBeLessThanOrEqual(0);
  await page.getByRole("button", { name: "Use security key" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  await phone.close();
});

test("a key alone: added without an app (the password confirms), it turns 2FA on with recovery codes; sign-in offers the key and a recovery code, no app code; Disable with the key", async ({ page, browser, baseURL }) => {
  test.setTimeout(180_000);
  const user = await addUser(browser, baseURL!, newUser("KeyOnly"));
  await addVirtualKey(page);
  await signIn(page, user);
  let dialog = await openMySettings(page);
  const keys = dialog.getByRole("region", { name: "Security keys" });
  await expect(keys).toContainText("Adding one turns on two-factor authentication.");
  await keys.getByRole("button", { name: "Add security key" }).click();
  await keys.getByLabel("Password").fill(user.password);
  await keys.getByRole("button", { name: "Confirm" }).click();
  await keys.getByRole("button", { name: "Save" }).click();
  await expect(keys.getByRole("heading", { name: "Save your recovery codes" })).toBeVisible();
  const continueButton = keys.getByRole("button", { name: "Continue" });
  await expect(continueButton).toBeDisabled();
  const download = page.waitForEvent("download");
  await keys.getByRole("button", { name: "Download" }).click();
  const recoveryCodes = readFileSync((await (await download).path())!, "utf8").trim().split("\n");
  expect(recoveryCodes).toHaveLength(10);
  await continueButton.click();
  await expect(dialog.getByText("Two-factor authentication is enabled with a security key.")).toBeVisible();
  await expect(dialog.getByRole("button", { name: "Add authenticator app" })).toBeVisible();
  await dialog.getByRole("button", { name: "Close" }).click();
  await signOut(page);

  await submitPassword(page, user.email, user.password);
  await expect(page.getByRole("button", { name: "Use security key" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Authentication code" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Use a recovery code" })).toBeVisible();
  await page.getByRole("button", { name: "Use security key" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();

  // A new session has not confirmed: Disable asks for the key, then turns 2FA off.
  dialog = await openMySettings(page);
  await dialog.getByRole("button", { name: "Disable" }).click();
  await dialog.getByRole("button", { name: "Disable" }).click();
  await expect(dialog.getByText("Confirm this change with your security key")).toBeVisible();
  await expectNoAxeViolations(page, "My Settings, confirm with a security key");
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await expect(dialog.getByText("Two-factor authentication is disabled.")).toBeVisible();
  await expect(dialog.getByRole("region", { name: "Security keys" }).getByTestId("security-key")).toHaveCount(0);
  await dialog.getByRole("button", { name: "Close" }).click();
  await signOut(page);
  await signIn(page, user); // the password alone again
});
