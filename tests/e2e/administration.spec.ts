import { expect, test } from "./fixtures/test";
import { readFileSync } from "node:fs";
import { ADMIN, addUser, newUser, openMySettings, signIn, signOut } from "./fixtures/app";

test("Users: an admin adds a user who can sign in; a non-admin cannot reach Administration", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Plain"));
  await signIn(page, ADMIN);
  await page.goto("/admin/users");
  await page.getByLabel("Search").fill(user.email.toUpperCase());
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByText("Page 1 of 1 · 1 user")).toBeVisible();
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
  await expect(dialog.getByText("Use a password of 15 to 128 characters.")).toBeVisible();
  await expect(page.getByRole("cell", { name: "not-an-email" })).toHaveCount(0);
});

test("Add user: the strength meter judges the password as it is typed, and Save is refused for a common one or one with the email, saying why", async ({ page }) => {
  const user = newUser("Strength");
  await signIn(page, ADMIN);
  await page.goto("/admin/users");
  await page.getByRole("button", { name: "Add user" }).click();
  const dialog = page.getByRole("dialog", { name: "Add user" });
  const meter = dialog.getByRole("meter", { name: "Strength" });
  const fill = async (password: string) => {
    // The form is emptied after each answer (React resets a form after its action): fill it whole each time.
    await dialog.getByLabel("Name").fill(user.name);
    await dialog.getByLabel("Email").fill(user.email);
    await dialog.getByLabel("Password").fill(password);
  };
  await expect(meter).toBeHidden();
  await fill("Password1234567");
  await expect(meter).toBeVisible();
  await expect(meter).toHaveAttribute("aria-valuetext", /weak|Fair/i);
  await expect(dialog.getByText(/^Strength: /)).toContainText("too common");

  // The meter is only a guide: the server refuses the same password on Save.
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog.getByLabel("Password")).toHaveAttribute("aria-invalid", "true");
  await expect(dialog.getByText(/^This password is too common/)).toBeVisible();

  await fill(`${user.email} is mine`);
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog.getByText("This password contains the user's email address. Choose one without it.", { exact: true })).toBeVisible();

  await fill(user.password);
  await expect(meter).toHaveAttribute("aria-valuetext", /strong/i);
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText(`${user.name} was added.`)).toBeVisible();
});

test("Audit log: an admin filters a user's events and exports them as CSV; the user sees them in Security activity", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Audited"));
  const userContext = await browser.newContext({ baseURL });
  const userPage = await userContext.newPage();
  await submitPasswordWrong(userPage, user.email);
  await signIn(userPage, user);
  const settings = await openMySettings(userPage);
  await expect(settings.getByRole("region", { name: "Security activity" }).getByText("Signed in").first()).toBeVisible();
  await expect(settings.getByRole("region", { name: "Security activity" }).getByText("Wrong password").first()).toBeVisible();
  await userContext.close();

  await signIn(page, ADMIN);
  await page.goto("/admin/audit");
  await page.getByLabel("User email").fill(user.email);
  await page.getByLabel("Event").selectOption({ label: "Signed in" });
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByRole("cell", { name: "Signed in" }).first()).toBeVisible();
  await expect(page.getByRole("cell", { name: "Wrong password" })).toHaveCount(0);
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Export CSV" }).click();
  const csv = readFileSync((await (await download).path())!, "utf8");
  expect(csv.split("\r\n")[0]).toBe("time_utc,event,actor,target,ip,user_agent,details");
  expect(csv).toContain(`sign_in.succeeded,${user.email},${user.email}`);
  expect(csv).not.toContain("sign_in.password_failed");
});

async function submitPasswordWrong(page: import("@playwright/test").Page, email: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Incorrect email or password.")).toBeVisible();
}

test("a non-admin gets nothing from the audit export", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Curious"));
  await signIn(page, user);
  const response = await page.request.get("/admin/audit/export");
  expect(response.status()).toBe(404);
  expect(await response.text()).not.toContain("time_utc");
});
