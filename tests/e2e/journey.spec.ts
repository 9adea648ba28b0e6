import { expect, test } from "./fixtures/test";
import {
  addUser,
  enrollTwoFactor,
  freshCode,
  newUser,
  openMySettings,
  signIn,
  signInWithCode,
  signOut,
  submitPassword,
  wrongCode,
} from "./fixtures/app";

test("the manual's journey: enable 2FA, sign in with a code, recovery codes, disable", async ({ page, browser, baseURL }) => {
  test.setTimeout(240_000);
  const user = await addUser(browser, baseURL!, newUser("Journey"));
  await signIn(page, user);

  const enrolled = await enrollTwoFactor(page);
  expect(enrolled.recoveryCodes).toHaveLength(10);
  expect(new Set(enrolled.recoveryCodes).size).toBe(10);
  await signOut(page);

  // A wrong code is refused with a clear message; the right one signs in.
  await submitPassword(page, user.email, user.password);
  await expect(page.getByRole("heading", { name: /Two-factor/ })).toBeVisible();
  await page.getByLabel("Authentication code").fill(wrongCode(enrolled.secret));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByText("That code is not valid.", { exact: false })).toBeVisible();
  await expect(page.getByLabel("Authentication code")).toHaveValue("");
  const first = await freshCode(enrolled.secret, enrolled.lastStep);
  await page.getByLabel("Authentication code").fill(first.code);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  await signOut(page);

  // The same code again is a replay.
  await signInWithCode(page, user, first.code);
  await expect(page.getByText("That code is not valid.", { exact: false })).toBeVisible();

  // A recovery code works once.
  await page.getByRole("button", { name: "Use a recovery code" }).click();
  await page.getByLabel("Recovery code").fill(enrolled.recoveryCodes[0].toUpperCase());
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  await signOut(page);
  await submitPassword(page, user.email, user.password);
  await page.getByRole("button", { name: "Use a recovery code" }).click();
  await page.getByLabel("Recovery code").fill(enrolled.recoveryCodes[0]);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByText("That recovery code is not valid or has already been used.")).toBeVisible();
  await expect(page.getByLabel("Recovery code")).toHaveValue("");
  await page.getByLabel("Recovery code").fill(enrolled.recoveryCodes[1]);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();

  // Recovery codes: 8 left; new codes after a current code, download-gated.
  let settings = await openMySettings(page);
  await settings.getByRole("button", { name: "Recovery codes" }).click();
  await expect(settings.getByText("8 recovery codes left.")).toBeVisible();
  await settings.getByRole("button", { name: "Generate new codes" }).click();
  const second = await freshCode(enrolled.secret, first.step);
  await settings.getByLabel("Authentication code").fill(second.code);
  await settings.getByRole("button", { name: "Generate new codes" }).click();
  const continueButton = settings.getByRole("button", { name: "Continue" });
  await expect(continueButton).toBeDisabled();
  const download = page.waitForEvent("download");
  await settings.getByRole("button", { name: "Download" }).click();
  await download;
  await continueButton.click();

  // Disable needs a current code; afterwards no code is asked.
  await settings.getByRole("button", { name: "Disable" }).click();
  const third = await freshCode(enrolled.secret, second.step);
  await settings.getByLabel("Authentication code").fill(third.code);
  await settings.getByRole("button", { name: "Disable" }).click();
  await expect(settings.getByRole("button", { name: "Enable" })).toBeVisible();
  await settings.getByRole("button", { name: "Close" }).click();
  await signOut(page);
  await signIn(page, user);
  settings = await openMySettings(page);
  await expect(settings.getByRole("button", { name: "Enable" })).toBeVisible();
});
