import { expect, test } from "./fixtures/test";
import { ADMIN, addUser, enrollTwoFactor, newUser, signIn, signOut, submitPassword } from "./fixtures/app";
import { expectNothingProtectedServed } from "./fixtures/protected";

test("skipping the second step: between the two steps no protected page, route or action is served and no session exists", async ({ page, browser, baseURL, context }) => {
  const adminContext = await browser.newContext({ baseURL });
  const adminPage = await adminContext.newPage();
  await signIn(adminPage, ADMIN);
  const adminId = (await (await adminPage.request.get("/api/auth/session")).json()).user.id;
  await adminContext.close();

  const user = await addUser(browser, baseURL!, newUser("Skipper"), true);
  await signIn(page, user);
  await enrollTwoFactor(page);
  await signOut(page);

  await submitPassword(page, user.email, user.password);
  await expect(page.getByLabel("Authentication code")).toBeVisible();
  const cookies = await context.cookies();
  expect(cookies.some((c) => c.name.includes("session-token"))).toBe(false);
  const challenge = cookies.find((c) => c.name === "signin-challenge");
  expect(challenge?.httpOnly).toBe(true);
  expect(challenge?.sameSite).toBe("Strict");

  for (const path of ["/", "/admin", "/admin/settings", "/admin/users", "/admin/audit"]) {
    await page.goto(path);
    await expect(page, `${path} must send back to the code step`).toHaveURL(/\/login/);
    await expect(page.getByLabel("Authentication code")).toBeVisible();
  }
  const session = await page.request.get("/api/auth/session");
  expect(await session.json()).toBeNull();

  // By hand, the pending challenge sent everywhere (a cookie path binds browsers, not attackers): alone,
  // and beside a cookie-shaped session token so that the proxy lets it through to the pages' own guards.
  const pending = `signin-challenge=${challenge!.value}`;
  await expectNothingProtectedServed(page.request, pending, adminId);
  await expectNothingProtectedServed(page.request, `${pending}; authjs.session-token=forged`, adminId);
});
