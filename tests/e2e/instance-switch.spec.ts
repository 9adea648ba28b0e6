import { expect, test } from "@playwright/test";
import { ADMIN, addUser, enrollTwoFactor, newUser, signIn, signOut, submitPassword } from "./fixtures/app";

// Changes an instance-wide setting: runs in its own project, after every other test of its server.
test("Enable two factor user login off: nobody is asked for a code, and turning it on again restores enrolled users", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Toggle"));
  await signIn(page, user);
  await enrollTwoFactor(page);
  await signOut(page);

  const adminContext = await browser.newContext({ baseURL });
  const admin = await adminContext.newPage();
  await signIn(admin, ADMIN);
  await admin.getByRole("link", { name: "Administration" }).click();
  await admin.getByRole("link", { name: "Settings" }).click();
  await expect(admin.getByRole("heading", { name: "Security" })).toBeVisible();
  const toggle = admin.getByLabel("Enable two factor user login");
  await expect(toggle).toBeChecked();
  await toggle.uncheck();
  await admin.getByRole("button", { name: "Save" }).click();
  await expect(admin.getByText("Saved.")).toBeVisible();

  try {
    await signIn(page, user); // no code asked
    await signOut(page);
  } finally {
    await admin.reload();
    await admin.getByLabel("Enable two factor user login").check();
    await admin.getByRole("button", { name: "Save" }).click();
    await expect(admin.getByText("Saved.")).toBeVisible();
    await adminContext.close();
  }
  await submitPassword(page, user.email, user.password);
  await expect(page.getByLabel("Authentication code")).toBeVisible();
});
