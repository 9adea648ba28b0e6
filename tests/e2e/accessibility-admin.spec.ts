import type { Locator, Page } from "@playwright/test";
import { expect, test } from "./fixtures/test";
import { expectNoAxeViolations } from "./fixtures/axe";
import { addUser, enrollTwoFactor, freshCode, newUser, signIn, submitPassword, wrongCode } from "./fixtures/app";

// axe on Administration's pages and dialogs, and on the forced enrollment an admin's change causes
// (light and dark: tests/e2e/fixtures/axe.ts). Each test has an administrator of its own: a Confirm
// spares that admin the next Confirm for 5 minutes, which other tests' admins must not inherit.

test("axe: Administration pages, Add user, Actions, User properties, Confirm, forced enrollment", async ({ page, browser, baseURL }) => {
  test.setTimeout(240_000); // many pages and dialogs, each checked by axe, and now two confirmations (Add user as Administrator, User properties)
  const target = await addUser(browser, baseURL!, newUser("AxeForced"));
  const admin = await addUser(browser, baseURL!, newUser("AxeAdmin"), true);
  await signIn(page, admin);
  await page.goto("/admin/settings");
  await expect(page.getByRole("heading", { name: "Security" })).toBeVisible();
  await expectNoAxeViolations(page, "Administration, Settings");
  await page.goto("/admin/users");
  await expect(page.getByRole("row").nth(1)).toBeVisible();
  await expectNoAxeViolations(page, "Administration, Users");
  await page.goto("/admin/users?query=nobody-matches-this");
  await expect(page.getByText("No users match", { exact: true })).toBeVisible();
  await expectNoAxeViolations(page, "Administration, Users, no results");
  await page.goto("/admin/audit");
  await expect(page.getByRole("cell").first()).toBeVisible();
  await expectNoAxeViolations(page, "Administration, Audit log");
  await page.goto("/admin/audit?user=nobody%40example.com");
  await expect(page.getByText("No events match these filters", { exact: true })).toBeVisible();
  await expectNoAxeViolations(page, "Administration, Audit log, no results");

  await page.goto("/admin/users");
  await page.getByRole("button", { name: "Add user" }).click();
  const addDialog = page.getByRole("dialog", { name: "Add user" });
  await expect(addDialog.getByLabel("Name")).toBeVisible();
  await expectNoAxeViolations(page, "Add user");
  await addDialog.getByRole("button", { name: "Save" }).click();
  await expect(addDialog.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
  await expectNoAxeViolations(page, "Add user with errors");
  await addDialog.getByRole("button", { name: "Close" }).click();

  await page.goto(`/admin/users?query=${encodeURIComponent(target.email)}`);
  const actions = page.getByRole("row", { name: new RegExp(target.email) }).getByRole("button", { name: "Actions" });
  await actions.click();
  await expect(page.getByRole("menuitem", { name: "Edit" })).toBeVisible();
  await expectNoAxeViolations(page, "Actions menu");
  await page.getByRole("menuitem", { name: "Edit" }).click();
  const properties = page.getByRole("dialog", { name: "User properties" });
  await expect(properties.getByLabel("Two factor authentication enabled")).toBeVisible();
  await expectNoAxeViolations(page, "User properties");
  await properties.getByLabel("Two factor authentication enabled").check();
  await properties.getByRole("button", { name: "Save" }).click();
  await expect(properties.getByLabel("Password")).toBeVisible();
  await expectNoAxeViolations(page, "User properties, Confirm with the password");
  await properties.getByLabel("Password").fill("not the password");
  await properties.getByRole("button", { name: "Confirm" }).click();
  await expect(properties.getByText("That did not match. Try again.")).toBeVisible();
  await expectNoAxeViolations(page, "User properties, Confirm with an error");
  await properties.getByLabel("Password").fill(admin.password);
  await properties.getByRole("button", { name: "Confirm" }).click();
  await expect(properties).toBeHidden();

  const context = await browser.newContext({ baseURL });
  const forced = await context.newPage();
  await submitPassword(forced, target.email, target.password);
  await expect(forced.getByRole("heading", { name: "Set up two-factor authentication" })).toBeVisible();
  await expect(forced.getByRole("img", { name: /QR/ })).toBeVisible();
  await expectNoAxeViolations(forced, "forced enrollment at sign-in");
  const secret = (await forced.getByLabel("Setup key").innerText()).replace(/\s/g, "");
  await forced.getByLabel("Authentication code").fill((await freshCode(secret)).code);
  await forced.getByRole("button", { name: "Verify" }).click();
  await expect(forced.getByRole("button", { name: "Continue" })).toBeDisabled();
  await expectNoAxeViolations(forced, "forced enrollment, recovery codes");
  await context.close();
});

test("axe: the admin's Confirm asks for an Authentication code when the admin has 2FA", async ({ page, browser, baseURL }) => {
  test.setTimeout(150_000);
  const target = await addUser(browser, baseURL!, newUser("AxeTarget"));
  const admin = await addUser(browser, baseURL!, newUser("AxeAdmin"), true);
  await signIn(page, admin);
  const enrolled = await enrollTwoFactor(page);
  const properties = await editUser(page, target.email);
  await properties.getByLabel("Administrator").check();
  await properties.getByRole("button", { name: "Save" }).click();
  await expect(properties.getByLabel("Authentication code")).toBeVisible();
  await expectNoAxeViolations(page, "User properties, Confirm with an Authentication code");
  await properties.getByLabel("Authentication code").fill(wrongCode(enrolled.secret));
  await properties.getByRole("button", { name: "Confirm" }).click();
  await expect(properties.getByText("That did not match. Try again.")).toBeVisible();
  await expectNoAxeViolations(page, "User properties, Confirm with an Authentication code and an error");
});

async function editUser(page: Page, email: string): Promise<Locator> {
  await page.goto(`/admin/users?query=${encodeURIComponent(email)}`);
  await page.getByRole("row", { name: new RegExp(email) }).getByRole("button", { name: "Actions" }).click();
  await page.getByRole("menuitem", { name: "Edit" }).click();
  const dialog = page.getByRole("dialog", { name: "User properties" });
  await expect(dialog.getByLabel("Two factor authentication enabled")).toBeVisible();
  return dialog;
}
