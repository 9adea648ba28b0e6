import { expect, test } from "@playwright/test";
import { ADMIN, addUser, newUser, signIn, signOut } from "./fixtures/app";

test("Users: an admin adds a user who can sign in; a non-admin cannot reach Administration", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Plain"));
  await signIn(page, ADMIN);
  await page.goto("/admin/users");
  const row = page.getByRole("row", { name: new RegExp(user.email) });
  await expect(row).toContainText("User");
  await expect(row).toContainText("Off");
  await signOut(page);

  await signIn(page, user);
  await expect(page.getByRole("link", { name: "Administration" })).toHaveCount(0);
  const response = await page.goto("/admin/users");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("button", { name: "Add user" })).toHaveCount(0);
});

test("bad input in Add user gets a clear message and creates nothing", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto("/admin/users");
  await page.getByRole("button", { name: "Add user" }).click();
  const dialog = page.getByRole("dialog", { name: "Add user" });
  await dialog.getByLabel("Name").fill("x".repeat(5000));
  await dialog.getByLabel("Email").fill("not-an-email");
  await dialog.getByLabel("Password").fill("short");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog.getByText("Enter a valid email address.")).toBeVisible();
  await expect(dialog.getByText("Use a password of 8 to 128 characters.")).toBeVisible();
  await expect(page.getByRole("cell", { name: "not-an-email" })).toHaveCount(0);
});
