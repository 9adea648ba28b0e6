import { expect, test } from "./fixtures/test";
import { expectNoAxeViolations } from "./fixtures/axe";
import {
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
// The setup page exists only before the first user: first-run.spec.ts checks it. Administration: accessibility-admin.spec.ts.

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
  test.setTimeout(300_000); // some twenty axe runs, light and dark
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
