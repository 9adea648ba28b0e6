import { expect, test, type Locator, type Page } from "@playwright/test";
import { expectNoAxeViolations } from "./fixtures/axe";
import {
  ADMIN,
  addUser,
  enrollTwoFactor,
  freshCode,
  newUser,
  openMySettings,
  openProfileMenu,
  signIn,
  signOut,
  submitPassword,
  wrongCode,
} from "./fixtures/app";

// axe on every page and dialog state, light and dark (tests/e2e/fixtures/axe.ts).
// The setup page exists only before the first user: first-run.spec.ts checks it.

test("axe: sign-in steps, their errors, and the pages anyone can reach", async ({ page, browser, baseURL }) => {
  test.setTimeout(150_000);
  const user = await addUser(browser, baseURL!, newUser("AxeLogin"));
  await signIn(page, user);
  const enrolled = await enrollTwoFactor(page);
  await signOut(page);

  await page.goto("/login");
  await expectNoAxeViolations(page, "login, password step");
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Incorrect email or password.")).toBeVisible();
  await expectNoAxeViolations(page, "login, password step with an error");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Enter your password.", { exact: false })).toBeVisible();
  await expectNoAxeViolations(page, "login, password step with field errors");

  await submitPassword(page, user.email, user.password);
  await expect(page.getByRole("heading", { name: /Two-factor/ })).toBeVisible();
  await expectNoAxeViolations(page, "login, code step");
  await page.getByLabel("Authentication code").fill(wrongCode(enrolled.secret));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByText("That code is not valid.", { exact: false })).toBeVisible();
  await expectNoAxeViolations(page, "login, code step with an error");
  await page.getByRole("button", { name: "Use a recovery code" }).click();
  await expect(page.getByLabel("Recovery code")).toBeVisible();
  await expectNoAxeViolations(page, "login, recovery code");
  await page.getByLabel("Recovery code").fill("aaaa-bbbb-cccc-dddd");
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByText("That recovery code is not valid", { exact: false })).toBeVisible();
  await expectNoAxeViolations(page, "login, recovery code with an error");

  await page.goto("/setup?token=not-a-token");
  await expectNoAxeViolations(page, "setup, link not valid");
  await page.goto("/no-such-page");
  await expectNoAxeViolations(page, "page not found");
});

test("axe: home and My Settings in every state", async ({ page, browser, baseURL }) => {
  test.setTimeout(180_000);
  const user = await addUser(browser, baseURL!, newUser("AxeSettings"));
  await signIn(page, user);
  await expectNoAxeViolations(page, "home");
  await openProfileMenu(page);
  await expect(page.getByRole("menuitem", { name: "My Settings" })).toBeVisible();
  await expectNoAxeViolations(page, "profile menu");
  await page.keyboard.press("Escape");

  const dialog = await openMySettings(page);
  await expect(dialog.getByRole("button", { name: "Enable" })).toBeVisible();
  await expect(dialog.getByRole("region", { name: "Security activity" }).getByText("Signed in").first()).toBeVisible();
  await expectNoAxeViolations(page, "My Settings, 2FA off");

  await dialog.getByRole("button", { name: "Enable" }).click();
  await expect(dialog.getByRole("img", { name: /QR/ })).toBeVisible();
  await expectNoAxeViolations(page, "enrollment, QR code and Setup key");
  const secret = (await dialog.getByLabel("Setup key").innerText()).replace(/\s/g, "");
  await dialog.getByLabel("Authentication code").fill(wrongCode(secret));
  await dialog.getByRole("button", { name: "Verify" }).click();
  await expect(dialog.getByText("That code is not valid.", { exact: false })).toBeVisible();
  await expectNoAxeViolations(page, "enrollment, Authentication code with an error");
  const first = await freshCode(secret);
  await dialog.getByLabel("Authentication code").fill(first.code);
  await dialog.getByRole("button", { name: "Verify" }).click();
  await expect(dialog.getByRole("button", { name: "Continue" })).toBeDisabled();
  await expectNoAxeViolations(page, "enrollment, recovery codes before Download");
  const download = page.waitForEvent("download");
  await dialog.getByRole("button", { name: "Download" }).click();
  await download;
  await expect(dialog.getByRole("button", { name: "Continue" })).toBeEnabled();
  await expectNoAxeViolations(page, "enrollment, recovery codes after Download");
  await dialog.getByRole("button", { name: "Continue" }).click();
  await expect(dialog.getByRole("button", { name: "Done" })).toBeVisible();
  await expectNoAxeViolations(page, "enrollment, Done");
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog.getByRole("button", { name: "Disable" })).toBeVisible();
  await expectNoAxeViolations(page, "My Settings, 2FA on");

  await dialog.getByRole("button", { name: "Disable" }).click();
  await expect(dialog.getByLabel("Authentication code")).toBeVisible();
  await expectNoAxeViolations(page, "Disable confirmation");
  await dialog.getByLabel("Authentication code").fill("12");
  await dialog.getByRole("button", { name: "Disable" }).click();
  await expect(dialog.getByText("Enter the 6-digit code", { exact: false })).toBeVisible();
  await expectNoAxeViolations(page, "Disable confirmation with an error");
  await dialog.getByRole("button", { name: "Cancel" }).click();

  await dialog.getByRole("button", { name: "Recovery codes" }).click();
  await expect(dialog.getByText("10 recovery codes left.")).toBeVisible();
  await expectNoAxeViolations(page, "Recovery codes");
  await dialog.getByRole("button", { name: "Generate new codes" }).click();
  await expect(dialog.getByLabel("Authentication code")).toBeVisible();
  await expectNoAxeViolations(page, "Generate new codes, code asked");
  const second = await freshCode(secret, first.step);
  await dialog.getByLabel("Authentication code").fill(second.code);
  await dialog.getByRole("button", { name: "Generate new codes" }).click();
  await expect(dialog.getByRole("button", { name: "Continue" })).toBeDisabled();
  await expectNoAxeViolations(page, "Generate new codes, the new codes");
  const secondDownload = page.waitForEvent("download");
  await dialog.getByRole("button", { name: "Download" }).click();
  await secondDownload;
  await dialog.getByRole("button", { name: "Continue" }).click();
  await expect(dialog.getByText("New recovery codes saved.")).toBeVisible();

  await expect(dialog.getByRole("region", { name: "Password and sessions" })).toBeVisible();
  await dialog.getByRole("button", { name: "Change password" }).click();
  await expect(dialog.getByLabel("Current password")).toBeVisible();
  await expectNoAxeViolations(page, "Password and sessions, Change password");
  await dialog.getByRole("button", { name: "Change password" }).click();
  await expect(dialog.getByLabel("Current password")).toHaveAttribute("aria-invalid", "true");
  await expectNoAxeViolations(page, "Change password with errors");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog.getByRole("button", { name: "Sign out everywhere" })).toBeVisible();
});

test("axe: Administration pages, Add user, Actions, User properties, Confirm, forced enrollment", async ({ page, browser, baseURL }) => {
  test.setTimeout(150_000);
  const target = await addUser(browser, baseURL!, newUser("AxeForced"));
  await signIn(page, ADMIN);
  await page.goto("/admin/settings");
  await expect(page.getByRole("heading", { name: "Security" })).toBeVisible();
  await expectNoAxeViolations(page, "Administration, Settings");
  await page.goto("/admin/users");
  await expect(page.getByRole("row").nth(1)).toBeVisible();
  await expectNoAxeViolations(page, "Administration, Users");
  await page.goto("/admin/users?query=nobody-matches-this");
  await expect(page.getByText("No users match.")).toBeVisible();
  await expectNoAxeViolations(page, "Administration, Users, no results");
  await page.goto("/admin/audit");
  await expect(page.getByRole("cell").first()).toBeVisible();
  await expectNoAxeViolations(page, "Administration, Audit log");
  await page.goto("/admin/audit?user=nobody%40example.com");
  await expect(page.getByText("No events match these filters.")).toBeVisible();
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
  await properties.getByLabel("Password").fill(ADMIN.password);
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
