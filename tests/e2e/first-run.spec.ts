import { expect, test } from "./fixtures/test";
import { ADMIN, serverLog, signIn } from "./fixtures/app";
import { expectNoAxeViolations } from "./fixtures/axe";

test("first run: the printed setup link creates the administrator once, a wrong token creates nothing", async ({ page }, testInfo) => {
  const match = serverLog(testInfo).match(/https?:\/\/\S+\/setup\?token=([\w-]+)/);
  expect(match, "the server prints a setup link when there is no user").not.toBeNull();
  const link = new URL(match![0]);

  await page.goto("/setup?token=wrong-token");
  await expect(page.getByText("This setup link is not valid or has already been used.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Create administrator" })).toHaveCount(0);

  await page.goto(link.pathname + link.search);
  // The setup form exists only now, before the first user: its accessibility is checked here.
  await expectNoAxeViolations(page, "setup");
  await page.getByRole("button", { name: "Create administrator" }).click();
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
  await expectNoAxeViolations(page, "setup with errors");
  await page.getByLabel("Name").fill(ADMIN.name);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Create administrator" }).click();
  await expect(page).toHaveURL(/\/login/);

  await page.goto(link.pathname + link.search);
  await expect(page.getByText("This setup link is not valid or has already been used.")).toBeVisible();

  await signIn(page, ADMIN);
  await expect(page.getByRole("link", { name: "Administration" })).toBeVisible();
});
