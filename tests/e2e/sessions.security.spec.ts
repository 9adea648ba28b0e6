import { expect, test } from "@playwright/test";
import { addUser, enrollTwoFactor, newUser, signIn } from "./fixtures/app";

test("stolen session: enabling 2FA ends the user's other sessions but keeps this one", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Sessions"));
  const otherContext = await browser.newContext({ baseURL });
  const other = await otherContext.newPage();
  await signIn(other, user);
  await signIn(page, user);

  await enrollTwoFactor(page);
  await page.reload();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();

  await other.reload();
  await expect(other).toHaveURL(/\/login/);
  await otherContext.close();
});
