import { expect, test } from "./fixtures/test";
import { ADMIN, addUser, confirmWithPassword, enrollTwoFactor, freshCode, newUser, openMySettings, signIn, signOut, submitPassword } from "./fixtures/app";
import { expectNoAxeViolations } from "./fixtures/axe";

// Turns the instance option on for the whole server: runs with the instance-settings project.
test("Trust this browser: the trusted browser skips the code, another browser and another user still get it", async ({ page, browser, baseURL }) => {
  test.setTimeout(240_000);
  const admin = await browser.newContext({ baseURL });
  const adminPage = await admin.newPage();
  await signIn(adminPage, ADMIN);
  await adminPage.goto("/admin/settings");
  await adminPage.getByLabel("Allow users to trust the browser").check();
  await adminPage.getByLabel("Days a trusted browser skips the code").fill("7");
  await adminPage.getByRole("button", { name: "Save" }).click();
  await confirmWithPassword(adminPage, ADMIN.password); // allowing trusted browsers weakens sign-in
  await expect(adminPage.getByText("Saved.")).toBeVisible();

  try {
    const alice = await addUser(browser, baseURL!, newUser("Alice"));
    const bob = await addUser(browser, baseURL!, newUser("Bob"));
    await signIn(page, alice);
    const enrolled = await enrollTwoFactor(page);
    await signOut(page);

    await submitPassword(page, alice.email, alice.password);
    await expect(page.getByLabel("Trust this browser")).toBeVisible();
    await expectNoAxeViolations(page, "login, code step with Trust this browser");
    const { code } = await freshCode(enrolled.secret, enrolled.lastStep);
    await page.getByLabel("Authentication code").fill(code);
    await page.getByLabel("Trust this browser").check();
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
    const trustCookie = (await page.context().cookies()).find((c) => c.name === "trusted-browser");
    expect(trustCookie).toMatchObject({ httpOnly: true, sameSite: "Lax" });
    const settings = await openMySettings(page);
    await expect(settings.getByRole("region", { name: "Trusted browsers" }).getByText(/^Chrome on /)).toBeVisible();
    await expectNoAxeViolations(page, "My Settings, Trusted browsers");
    await settings.getByRole("button", { name: "Close" }).click();
    await signOut(page);

    // Same browser: the password is still asked, the code is not.
    await submitPassword(page, alice.email, alice.password);
    await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
    await signOut(page);

    // Same browser, another user: the code step stays.
    await signIn(page, bob); // Bob has no 2FA: straight in
    await signOut(page);
    const bobSettings = await (async () => {
      await signIn(page, bob);
      const enrolledBob = await enrollTwoFactor(page);
      await signOut(page);
      return enrolledBob;
    })();
    await submitPassword(page, bob.email, bob.password);
    await expect(page.getByLabel("Authentication code")).toBeVisible();
    expect(bobSettings.secret).not.toBe(enrolled.secret);

    // Another browser: the code step stays for Alice too.
    const other = await browser.newContext({ baseURL });
    const otherPage = await other.newPage();
    await submitPassword(otherPage, alice.email, alice.password);
    await expect(otherPage.getByLabel("Authentication code")).toBeVisible();
    await other.close();

    // Remove all: the code is asked again in the first browser.
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect(page.getByLabel("Email")).toBeVisible();
    await submitPassword(page, alice.email, alice.password);
    await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
    const mine = await openMySettings(page);
    await mine.getByRole("region", { name: "Trusted browsers" }).getByRole("button", { name: "Remove all" }).click();
    await expect(mine.getByText("All trusted browsers removed.")).toBeVisible();
    await mine.getByRole("button", { name: "Close" }).click();
    await signOut(page);
    await submitPassword(page, alice.email, alice.password);
    await expect(page.getByLabel("Authentication code")).toBeVisible();
  } finally {
    await adminPage.goto("/admin/settings");
    await adminPage.getByLabel("Allow users to trust the browser").uncheck();
    await adminPage.getByRole("button", { name: "Save" }).click();
    await expect(adminPage.getByText("Saved.")).toBeVisible();
    await admin.close();
  }
});
