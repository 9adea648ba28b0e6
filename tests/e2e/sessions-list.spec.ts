import { expect, test } from "@playwright/test";
import { expectNoAxeViolations } from "./fixtures/axe";
import { addUser, newUser, openMySettings, signIn } from "./fixtures/app";
import { copySessionCookie, sessionOf } from "./fixtures/sessions";

// My Settings → Sessions (issue 11): where the user is signed in, each with Sign out.
const FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
const PHONE = { width: 375, height: 740 };

test("Sessions lists both browsers, marks this one, and Sign out ends the other one only", async ({ browser, baseURL }) => {
  test.setTimeout(150_000);
  const user = await addUser(browser, baseURL!, newUser("SessionsList"));
  const otherContext = await browser.newContext({ baseURL, userAgent: FIREFOX_ON_WINDOWS });
  const other = await otherContext.newPage();
  await signIn(other, user);
  const phone = await browser.newContext({ baseURL, viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await signIn(page, user);

  const dialog = await openMySettings(page);
  const sessions = dialog.getByRole("region", { name: "Sessions" });
  const items = sessions.getByRole("listitem");
  await expect(items).toHaveCount(2);
  const firefox = items.filter({ hasText: "Firefox on Windows" });
  const mine = items.filter({ hasText: "This browser" });
  await expect(firefox).toHaveCount(1);
  await expect(mine).toHaveCount(1);
  await expect(mine).toContainText("Chrome");
  await expect(firefox).not.toContainText("This browser");
  await expect(firefox).toContainText(/signed in .* · last active/);

  const overflow = await dialog.evaluate((element) => element.scrollWidth - element.clientWidth);
  expect(overflow, "My Settings with Sessions scrolls sideways at 375 px").toBeLessThanOrEqual(0);
  await expect(firefox.getByRole("button", { name: /^Sign out/ })).toBeInViewport({ ratio: 1 });
  await expectNoAxeViolations(page, "My Settings, Sessions on a phone");

  const copied = await copySessionCookie(otherContext);
  await firefox.getByRole("button", { name: /^Sign out Firefox on Windows/ }).click();
  await expect(sessions.getByText("Session signed out.")).toBeVisible();
  await expect(items).toHaveCount(1);
  await expect(items.first()).toContainText("This browser");
  await other.reload();
  await expect(other).toHaveURL(/\/login/);
  expect(await sessionOf(browser, baseURL!, copied)).toBeNull();

  // This browser's own Sign out signs it out.
  await page.reload();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  const again = await openMySettings(page);
  await again.getByRole("region", { name: "Sessions" }).getByRole("button", { name: "Sign out this browser" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  await otherContext.close();
  await phone.close();
});
