import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures/test";
import { addUser, enrollTwoFactor, freshCode, newUser, signIn, signOut, submitPassword, type TestUser } from "./fixtures/app";

async function editUser(admin: Page, user: TestUser) {
  await admin.goto(`/admin/users?query=${encodeURIComponent(user.email)}`);
  await admin.getByRole("row", { name: new RegExp(user.email) }).getByRole("button", { name: "Actions" }).click();
  await admin.getByRole("menuitem", { name: "Edit" }).click();
  const dialog = admin.getByRole("dialog", { name: "User properties" });
  await expect(dialog.getByLabel("Two factor authentication enabled")).toBeVisible();
  return dialog;
}

test("User properties: unticking Two factor authentication enabled removes the user's 2FA once the admin confirms", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Unticked"));
  const adminUser = await addUser(browser, baseURL!, newUser("Admin"), true);
  await signIn(page, user);
  await enrollTwoFactor(page);

  const adminContext = await browser.newContext({ baseURL });
  const admin = await adminContext.newPage();
  await signIn(admin, adminUser);
  const dialog = await editUser(admin, user);
  await expect(dialog.getByLabel("Two factor authentication enabled")).toBeChecked();
  await dialog.getByLabel("Two factor authentication enabled").uncheck();
  await dialog.getByRole("button", { name: "Save" }).click();
  // The admin has no 2FA: the password confirms.
  await dialog.getByLabel("Password").fill("wrong password");
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await expect(dialog.getByText("That did not match. Try again.")).toBeVisible();
  await expect(dialog.getByLabel("Password")).toHaveValue("");
  await dialog.getByLabel("Password").fill(adminUser.password);
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await expect(dialog).toBeHidden();
  await expect(admin.getByRole("row", { name: new RegExp(user.email) })).toContainText("Off");
  await admin.getByLabel("Two-factor", { exact: true }).selectOption({ label: "Two-factor on" });
  await admin.getByRole("button", { name: "Search" }).click();
  await expect(admin.getByText("No users match", { exact: true })).toBeVisible();
  await adminContext.close();

  // The user's session ended; the next sign-in asks for no code.
  await page.reload();
  await expect(page).toHaveURL(/\/login/);
  await signIn(page, user);
});

test("User properties: ticking Two factor authentication enabled makes enrollment the first thing at the next sign-in", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Forced"));
  const adminUser = await addUser(browser, baseURL!, newUser("Admin"), true);
  const adminContext = await browser.newContext({ baseURL });
  const admin = await adminContext.newPage();
  await signIn(admin, adminUser);
  const dialog = await editUser(admin, user);
  await dialog.getByLabel("Two factor authentication enabled").check();
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.getByLabel("Password").fill(adminUser.password);
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await expect(dialog).toBeHidden();
  await expect(admin.getByRole("row", { name: new RegExp(user.email) })).toContainText("Enrollment required");
  await adminContext.close();

  await submitPassword(page, user.email, user.password);
  await expect(page.getByRole("heading", { name: "Set up two-factor authentication" })).toBeVisible();
  // No way around it: protected pages send back here, no session exists.
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole("heading", { name: "Set up two-factor authentication" })).toBeVisible();
  // Open redirect through enrollment: the callbackUrl the page hands back at Done must stay on the app.
  await page.goto(`/login?callbackUrl=${encodeURIComponent("https://evil.example")}`);
  await expect(page.getByRole("heading", { name: "Set up two-factor authentication" })).toBeVisible();

  const secret = (await page.getByLabel("Setup key").innerText()).replace(/\s/g, "");
  const first = await freshCode(secret);
  await page.getByLabel("Authentication code").fill(first.code);
  await page.getByRole("button", { name: "Verify" }).click();
  const continueButton = page.getByRole("button", { name: "Continue" });
  await expect(continueButton).toBeDisabled();
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download" }).click();
  await download;
  await continueButton.click();
  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  expect(new URL(page.url()).host).toBe(new URL(baseURL!).host);
  await signOut(page);

  await submitPassword(page, user.email, user.password);
  await expect(page.getByLabel("Authentication code")).toBeVisible();
});
