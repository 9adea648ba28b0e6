import { expect, test, type Page } from "@playwright/test";
import { ADMIN, addUser, freshCode, newUser, openMySettings, serverLog, signIn, signOut, submitPassword } from "../e2e/fixtures/app";
import { addVirtualKey } from "../e2e/fixtures/authenticator";

const shot = (page: Page, name: string) => page.screenshot({ path: `docs/screenshots/${name}.png` });

test("screenshots for the README", async ({ page, browser, baseURL }, testInfo) => {
  test.setTimeout(180_000);
  const link = new URL(serverLog(testInfo).match(/https?:\/\/\S+\/setup\?token=[\w-]+/)![0]);
  await page.goto(link.pathname + link.search);
  await page.getByLabel("Name").fill(ADMIN.name);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await shot(page, "setup");
  await page.getByRole("button", { name: "Create administrator" }).click();
  await expect(page).toHaveURL(/\/login/);
  await shot(page, "login");

  const user = await addUser(browser, baseURL!, { ...newUser("Grace"), name: "Grace Hopper" });
  await signIn(page, user);
  const dialog = await openMySettings(page);
  await expect(dialog.getByText("Signed in", { exact: true })).toBeVisible();
  await shot(page, "my-settings-off");
  await dialog.getByRole("button", { name: "Enable" }).click();
  await expect(dialog.getByRole("img", { name: /QR/ })).toBeVisible();
  await shot(page, "enroll-1-scan");
  const secret = (await dialog.getByLabel("Setup key").innerText()).replace(/\s/g, "");
  const first = await freshCode(secret);
  await dialog.getByLabel("Authentication code").fill(first.code);
  await shot(page, "enroll-2-verify");
  await dialog.getByRole("button", { name: "Verify" }).click();
  await expect(dialog.getByRole("button", { name: "Continue" })).toBeDisabled();
  await shot(page, "enroll-3-recovery-codes");
  const download = page.waitForEvent("download");
  await dialog.getByRole("button", { name: "Download" }).click();
  await download;
  await dialog.getByRole("button", { name: "Continue" }).click();
  await expect(dialog.getByRole("button", { name: "Done" })).toBeVisible();
  await shot(page, "enroll-4-done");
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog.getByRole("button", { name: "Disable" })).toBeVisible();
  await expect(dialog.getByText("Two-factor enabled", { exact: true })).toBeVisible();
  await shot(page, "my-settings-on");
  // Signed in on a second browser too: My Settings → Sessions lists both, with Sign out for each.
  const phone = await browser.newContext({ baseURL, userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1" });
  const phonePage = await phone.newPage();
  await submitPassword(phonePage, user.email, user.password);
  const onPhone = await freshCode(secret, first.step);
  await phonePage.getByLabel("Authentication code").fill(onPhone.code);
  await phonePage.getByRole("button", { name: "Verify" }).click();
  await expect(phonePage.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  await phone.close();
  await dialog.getByRole("button", { name: "Close" }).click();
  const again = await openMySettings(page);
  const sessions = again.getByRole("region", { name: "Sessions", exact: true });
  await expect(sessions.getByText(/Safari on iOS/)).toBeVisible();
  await sessions.scrollIntoViewIfNeeded();
  await shot(page, "my-settings-sessions");
  await dialog.getByRole("button", { name: "Close" }).click();
  await signOut(page);

  await submitPassword(page, user.email, user.password);
  await expect(page.getByLabel("Authentication code")).toBeVisible();
  await shot(page, "code-step");
  const second = await freshCode(secret, onPhone.step);
  await page.getByLabel("Authentication code").fill(second.code);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();

  // A security key (Chromium's virtual authenticator): added after a current code, then offered first at sign-in.
  await addVirtualKey(page);
  const withKey = await openMySettings(page);
  const keys = withKey.getByRole("region", { name: "Security keys" });
  await keys.getByRole("button", { name: "Add security key" }).click();
  await keys.getByLabel("Authentication code").fill((await freshCode(secret, second.step)).code);
  await keys.getByRole("button", { name: "Confirm" }).click();
  await keys.getByLabel("Name").fill("YubiKey 5C");
  await keys.getByRole("button", { name: "Save" }).click();
  await expect(keys.getByText("Security key added.")).toBeVisible();
  await keys.scrollIntoViewIfNeeded();
  await shot(page, "my-settings-security-keys");
  await withKey.getByRole("button", { name: "Close" }).click();
  await signOut(page);
  await submitPassword(page, user.email, user.password);
  await expect(page.getByRole("button", { name: "Use security key" })).toBeVisible();
  await shot(page, "key-step");
  await page.getByRole("button", { name: "Use security key" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  await signOut(page);

  await signIn(page, ADMIN);
  await page.goto("/admin/settings");
  await shot(page, "admin-settings");
  await page.goto("/admin/users");
  await shot(page, "admin-users");
  await page.getByRole("button", { name: "Add user" }).click();
  const addDialog = page.getByRole("dialog", { name: "Add user" });
  await addDialog.getByLabel("Name").fill("Alan Turing");
  await addDialog.getByLabel("Email").fill("alan@example.com");
  await addDialog.getByLabel("Password").fill("enigma");
  await expect(addDialog.getByRole("meter", { name: "Strength" })).toBeVisible();
  await shot(page, "admin-add-user");
  await page.keyboard.press("Escape");
  const row = page.getByRole("row", { name: /Grace Hopper/ });
  await row.getByRole("button", { name: "Actions" }).click();
  await page.getByRole("menuitem", { name: "Edit" }).click();
  const properties = page.getByRole("dialog", { name: "User properties" });
  await expect(properties).toBeVisible();
  await shot(page, "admin-user-properties");
  // Unticking 2FA weakens the account: this session confirms first (the admin has no 2FA: the password).
  // Before passkey sign-in is allowed below: that confirmation would still hold, and Save would go through.
  await properties.getByLabel("Two factor authentication enabled").uncheck();
  await properties.getByRole("button", { name: "Save" }).click();
  await expect(properties.getByRole("button", { name: "Confirm" })).toBeVisible();
  await shot(page, "admin-confirm");
  await page.keyboard.press("Escape");

  await page.goto("/admin/settings");
  // Sign in with a passkey, allowed (a weakening change: confirmed with the password), as /login then shows it.
  await page.getByLabel("Allow sign-in with a passkey").check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  const anonymous = await browser.newPage({ baseURL });
  await anonymous.setViewportSize({ width: 1100, height: 760 });
  await anonymous.goto("/login");
  await expect(anonymous.getByRole("button", { name: "Sign in with a passkey" })).toBeVisible();
  await shot(anonymous, "login-passkey");
  await anonymous.close();
  // A phone in dark mode: the same pages at 375 px, colours from the system setting.
  await page.setViewportSize({ width: 375, height: 740 });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto("/admin/users");
  await shot(page, "phone-dark-users");
  await signOut(page);
  await submitPassword(page, user.email, user.password);
  await page.getByRole("button", { name: "Authentication code" }).click();
  await expect(page.getByLabel("Authentication code")).toBeVisible();
  await shot(page, "phone-dark-code-step");
});
