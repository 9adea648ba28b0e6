import { expect, test } from "@playwright/test";
import { ADMIN, addUser, enrollTwoFactor, newUser, signIn, signOut, submitPassword } from "../e2e/fixtures/app";
import { expectNothingProtectedServed } from "../e2e/fixtures/protected";
import { cli, createDataDir, startServer, type Server } from "./support/server";

/**
 * The proxy is a convenience. With it switched off (PROXY_BYPASS=1: proxy.ts
 * lets everything through, as if the file were gone), every page, route
 * handler and server action must still refuse a visitor who has only passed
 * the password step, or has nothing at all.
 */
const PORT = 3300;
let server: Server;
const storage = createDataDir();

test.beforeAll(async () => {
  cli(storage, "create-user", "--email", ADMIN.email, "--password", ADMIN.password, "--name", ADMIN.name, "--admin");
  server = await startServer(PORT, storage, { PROXY_BYPASS: "1" });
});

test.afterAll(async () => {
  await server?.stop();
  storage.remove();
});

test("skipping the second step without the proxy: the pages, routes and actions guard themselves", async ({ browser }) => {
  test.setTimeout(180_000);
  const baseURL = server.url;
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signIn(page, ADMIN);
  const adminId = (await (await page.request.get("/api/auth/session")).json()).user.id;
  await signOut(page);

  // The switch works: without a cookie, a protected page is no longer redirected by the proxy (no callbackUrl).
  const direct = await page.request.get("/admin/users", { maxRedirects: 0 });
  expect(direct.headers()["location"] ?? "").not.toContain("callbackUrl=");
  // The switch turns off the redirect only: the security headers, nonce'd CSP included, stay on.
  expect((await page.request.get("/login")).headers()["content-security-policy"]).toMatch(/'nonce-[^']+' 'strict-dynamic'/);

  const user = await addUser(browser, baseURL, newUser("Bypass"), true);
  await signIn(page, user);
  await enrollTwoFactor(page);
  await signOut(page);
  await submitPassword(page, user.email, user.password);
  await expect(page.getByLabel("Authentication code")).toBeVisible();
  const challenge = (await context.cookies()).find((c) => c.name === "signin-challenge");
  expect(challenge).toBeTruthy();

  await expectNothingProtectedServed(page.request, "", adminId);
  await expectNothingProtectedServed(page.request, `signin-challenge=${challenge!.value}`, adminId);
  await context.close();
});
