import { expect, test } from "./fixtures/test";
import { ADMIN, addUser, confirmWithPassword, enrollTwoFactor, newUser, openMySettings, signIn, signOut, submitPassword } from "./fixtures/app";
import { expectNoAxeViolations } from "./fixtures/axe";

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
  await confirmWithPassword(admin, ADMIN.password); // off weakens sign-in for everyone; on again does not
  await expect(admin.getByText("Saved.")).toBeVisible();

  try {
    await signIn(page, user); // no code asked
    const settings = await openMySettings(page);
    await expect(settings.getByText("Two-factor authentication is turned off for this instance by an administrator.")).toBeVisible();
    await expectNoAxeViolations(page, "My Settings, 2FA turned off for the instance");
    await settings.getByRole("button", { name: "Close" }).click();
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

test("Require two-factor authentication for: administrators go to enrollment, not out; everyone sees the days left", async ({ page, browser, baseURL }) => {
  const newAdmin = await addUser(browser, baseURL!, newUser("NewAdmin"), true);
  const plain = await addUser(browser, baseURL!, newUser("Grace"));
  const adminContext = await browser.newContext({ baseURL });
  const admin = await adminContext.newPage();
  await signIn(admin, ADMIN);
  // A longer grace or a narrower scope weakens sign-in: the admin confirms (then not again for 5 minutes in this session).
  const savePolicy = async (scope: string, grace: string, confirm: boolean) => {
    await admin.goto("/admin/settings");
    await admin.getByLabel("Require two-factor authentication for").selectOption({ label: scope });
    await admin.getByLabel("Grace period (days)").fill(grace);
    await admin.getByRole("button", { name: "Save" }).click();
    if (confirm) await confirmWithPassword(admin, ADMIN.password);
    await expect(admin.getByText("Saved.")).toBeVisible();
  };
  let confirmed = false;
  try {
    await savePolicy("Administrators", "0", false);
    await submitPassword(page, newAdmin.email, newAdmin.password);
    await expect(page.getByRole("heading", { name: "Set up two-factor authentication" })).toBeVisible();
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect(page.getByLabel("Email")).toBeVisible();
    await signIn(page, plain); // not an administrator: not asked
    await signOut(page);

    await savePolicy("Everyone", "5", true);
    confirmed = true;
    await signIn(page, plain);
    await expect(page.getByText("Two-factor authentication will be required in 5 days.")).toBeVisible();
    await expectNoAxeViolations(page, "home with the days left to set up 2FA");
  } finally {
    await savePolicy("Nobody", "0", !confirmed);
    await adminContext.close();
  }
});
