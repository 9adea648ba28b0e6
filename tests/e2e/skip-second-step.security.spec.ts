import { expect, test } from "@playwright/test";
import { ADMIN, addUser, enrollTwoFactor, newUser, signIn, signOut, submitPassword } from "./fixtures/app";

test("skipping the second step: between the two steps no protected page is served and no session exists", async ({ page, browser, baseURL, context }) => {
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

  for (const path of ["/", "/admin", "/admin/settings", "/admin/users"]) {
    await page.goto(path);
    await expect(page, `${path} must send back to the code step`).toHaveURL(/\/login/);
    await expect(page.getByLabel("Authentication code")).toBeVisible();
  }
  const session = await page.request.get("/api/auth/session");
  expect(await session.json()).toBeNull();
  // The pages guard themselves too: sent with a forged session cookie (no proxy shortcut), still nothing.
  for (const path of ["/", "/admin/users"]) {
    const response = await page.request.get(path, {
      headers: { cookie: "authjs.session-token=forged" },
      maxRedirects: 0,
    });
    expect([303, 307, 308]).toContain(response.status());
    expect(response.headers()["location"]).toContain("/login");
  }
  expect(ADMIN.email).not.toBe(user.email);
});
