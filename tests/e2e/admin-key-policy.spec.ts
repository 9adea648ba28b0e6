import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures/test";
import { ADMIN, addOnlySecurityKey, addUser, newUser, signIn } from "./fixtures/app";
import { addVirtualKey } from "./fixtures/authenticator";

// Issue 12: Settings → Security → Require a security key for administrators. An instance-wide switch that takes
// Administration from every administrator without a key (ADMIN too): in a project of its own (playwright.config.ts).

const POLICY = "Require a security key for administrators";

/**
 * Sets the policy as `page`'s administrator, who has only a key: turning it off weakens sign-in and asks for
 * the key, unless this session confirmed a moment ago (then it is saved at once).
 */
async function setPolicy(page: Page, on: boolean): Promise<void> {
  await page.goto("/admin/settings");
  const box = page.getByLabel(POLICY);
  if (on) await box.check();
  else await box.uncheck();
  await page.getByRole("button", { name: "Save" }).click();
  const confirm = page.getByRole("dialog", { name: "Confirm the change" });
  await expect(page.getByText("Saved.").or(confirm)).toBeVisible();
  if (await confirm.isVisible()) await confirm.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  await page.reload();
  await expect(page.getByLabel(POLICY)).toBeChecked({ checked: on });
}

test("Require a security key for administrators: an administrator without a key still signs in, is sent to add one, and has Administration again once it is saved", async ({ page, browser, baseURL }) => {
  test.setTimeout(240_000);
  const keyAdmin = await addUser(browser, baseURL!, newUser("KeyAdmin"), true);
  const lateAdmin = await addUser(browser, baseURL!, newUser("LateAdmin"), true);
  await addVirtualKey(page);
  await signIn(page, keyAdmin);
  await addOnlySecurityKey(page, keyAdmin);
  await page.getByRole("dialog", { name: "My Settings" }).getByRole("button", { name: "Close" }).click();

  await setPolicy(page, true);
  const late = await browser.newContext({ baseURL });
  try {
    // Signs in as before (never locked out), then is told what to do, and no admin page is served.
    const latePage = await late.newPage();
    await signIn(latePage, lateAdmin);
    await expect(latePage.getByText("Administration needs a security key")).toBeVisible();
    for (const path of ["/admin/users", "/admin/settings", "/admin/audit"]) {
      await latePage.goto(path);
      await expect(latePage).toHaveURL(/\/security-key-required$/);
    }
    await expect(latePage.getByRole("heading", { name: "Add a security key to use Administration" })).toBeVisible();

    // The page's own button leads to My Settings; once the key is saved, Administration opens.
    await addVirtualKey(latePage);
    await latePage.getByRole("button", { name: "Add a security key" }).click();
    await addOnlySecurityKey(latePage, lateAdmin);
    await latePage.goto("/admin/users");
    await expect(latePage).toHaveURL(/\/admin\/users$/);
    await expect(latePage.getByRole("heading", { name: "Users" })).toBeVisible();
    await expect(latePage.getByText("Administration needs a security key")).toHaveCount(0);
  } finally {
    await late.close();
    await setPolicy(page, false);
  }

  // Off again: the administrator without a key has Administration as before.
  const admin = await browser.newContext({ baseURL });
  const adminPage = await admin.newPage();
  await signIn(adminPage, ADMIN);
  await adminPage.goto("/admin/users");
  await expect(adminPage.getByRole("heading", { name: "Users" })).toBeVisible();
  await admin.close();
});
