import { expect, test, type Page } from "@playwright/test";
import { ADMIN, addUser, freshCode, newUser, openMySettings, serverLog, signIn, signOut, submitPassword } from "../e2e/fixtures/app";

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
  await dialog.getByRole("button", { name: "Close" }).click();
  await signOut(page);

  await submitPassword(page, user.email, user.password);
  await expect(page.getByLabel("Authentication code")).toBeVisible();
  await shot(page, "code-step");
  const second = await freshCode(secret, first.step);
  await page.getByLabel("Authentication code").fill(second.code);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  await signOut(page);

  await signIn(page, ADMIN);
  await page.goto("/admin/settings");
  await shot(page, "admin-settings");
  await page.goto("/admin/users");
  await shot(page, "admin-users");
  await page.getByRole("button", { name: "Add user" }).click();
  await shot(page, "admin-add-user");
  await page.keyboard.press("Escape");
  const row = page.getByRole("row", { name: /Grace Hopper/ });
  await row.getByRole("button", { name: "Actions" }).click();
  await page.getByRole("menuitem", { name: "Edit" }).click();
  await expect(page.getByRole("dialog", { name: "User properties" })).toBeVisible();
  await shot(page, "admin-user-properties");
  await page.keyboard.press("Escape");

  // A phone in dark mode: the same pages at 375 px, colours from the system setting.
  await page.setViewportSize({ width: 375, height: 740 });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto("/admin/users");
  await shot(page, "phone-dark-users");
  await signOut(page);
  await submitPassword(page, user.email, user.password);
  await expect(page.getByLabel("Authentication code")).toBeVisible();
  await shot(page, "phone-dark-code-step");
});
