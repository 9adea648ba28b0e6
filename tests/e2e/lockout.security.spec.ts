import { expect, test } from "./fixtures/test";
import { addUser, enrollTwoFactor, freshCode, newUser, signIn, signOut, submitPassword, wrongCode } from "./fixtures/app";

test("guessing codes: five wrong codes lock the second step, and then even the right code is refused", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Lockout"));
  await signIn(page, user);
  const enrolled = await enrollTwoFactor(page);
  await signOut(page);

  await submitPassword(page, user.email, user.password);
  for (let attempt = 1; attempt <= 4; attempt++) {
    await page.getByLabel("Authentication code").fill(wrongCode(enrolled.secret));
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.getByText("That code is not valid.", { exact: false })).toBeVisible();
    // The answer has arrived once the form is reset; only then type the next guess.
    await expect(page.getByLabel("Authentication code")).toHaveValue("");
  }
  // A fresh sign-in does not reset the counter; recovery codes share it.
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByLabel("Email")).toBeVisible();
  await submitPassword(page, user.email, user.password);
  await page.getByRole("button", { name: "Use a recovery code" }).click();
  await page.getByLabel("Recovery code").fill("aaaa-bbbb-cccc-dddd");
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByText("Too many incorrect codes. Try again later.")).toBeVisible();

  await page.getByRole("button", { name: "Use an authentication code" }).click();
  const { code } = await freshCode(enrolled.secret, enrolled.lastStep);
  await page.getByLabel("Authentication code").fill(code);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByText("Too many incorrect codes. Try again later.")).toBeVisible();
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
});
