import { expect, test } from "./fixtures/test";
import { ADMIN, signIn, submitPassword } from "./fixtures/app";
import { callServerAction, serverActionIds } from "./fixtures/server-actions";

test("CVE-2025-29927: an x-middleware-subrequest header does not skip the proxy, and the pages still guard themselves", async ({ request }) => {
  const names = ["middleware", "proxy", "src/middleware", "src/proxy"];
  const values = names.flatMap((name) => [name, Array(5).fill(name).join(":")]);
  for (const value of values) {
    for (const cookie of ["", "authjs.session-token=forged"]) {
      const response = await request.get("/admin/users", { headers: { "x-middleware-subrequest": value, cookie }, maxRedirects: 0 });
      const what = `x-middleware-subrequest: ${value} ${cookie}`;
      expect([303, 307, 308], what).toContain(response.status());
      expect(response.headers()["location"], what).toContain("/login");
      // Without a cookie the proxy itself answered (it adds the callbackUrl): it was not skipped.
      if (!cookie) expect(response.headers()["location"], what).toContain("callbackUrl=");
      expect(await response.text(), what).not.toContain(ADMIN.email);
    }
  }
});

test("cross-site request forgery: a server action posted with a foreign Origin is refused and changes nothing", async ({ page }) => {
  await signIn(page, ADMIN);
  const id = serverActionIds().get("saveSecuritySettingsAction")!;
  const form = { twoFactorEnabled: "", trustBrowserEnabled: "on", trustBrowserDays: "77", requireTwoFactorFor: "nobody", requireGraceDays: "0" };
  for (const origin of ["https://evil.example", "null", "http://localhost.evil.example"]) {
    const { status, body } = await callServerAction(page.request, id, { before: [{ status: "idle" }], form }, { Origin: origin });
    expect(status, origin).toBeGreaterThanOrEqual(400);
    expect(body, origin).not.toContain('"status":"success"');
  }
  await page.goto("/admin/settings");
  await expect(page.getByLabel("Enable two factor user login")).toBeChecked();
  await expect(page.getByLabel("Days a trusted browser skips the code")).not.toHaveValue("77");
});

test("login cross-site request forgery: the sign-in steps refuse a foreign Origin, a cross-site fetch and a form post, and sign nobody in", async ({ request, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const form = { email: ADMIN.email, password: ADMIN.password };
  const hostile: { what: string; headers: Record<string, string>; body: string }[] = [
    { what: "foreign Origin", headers: { "content-type": "application/json", origin: "https://evil.example" }, body: JSON.stringify(form) },
    { what: "Origin null (sandboxed frame)", headers: { "content-type": "application/json", origin: "null" }, body: JSON.stringify(form) },
    { what: "look-alike host", headers: { "content-type": "application/json", origin: "http://localhost.evil.example" }, body: JSON.stringify(form) },
    { what: "no Origin", headers: { "content-type": "application/json" }, body: JSON.stringify(form) },
    { what: "cross-site fetch", headers: { "content-type": "application/json", origin, "sec-fetch-site": "cross-site" }, body: JSON.stringify(form) },
    // What a hostile page's <form> can send without a preflight: a simple content type. text/plain is never taken.
    { what: "text/plain form", headers: { "content-type": "text/plain", origin }, body: JSON.stringify(form) },
    // An urlencoded form is the sign-in page's own form with JavaScript off (no-javascript.spec.ts): from another
    // site it carries that site's Origin (or "null" from a sandboxed frame), and the browser says cross-site.
    { what: "urlencoded form from another site", headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" }, body: new URLSearchParams(form).toString() },
    { what: "urlencoded form, Origin null", headers: { "content-type": "application/x-www-form-urlencoded", origin: "null" }, body: new URLSearchParams(form).toString() },
    { what: "urlencoded form, no Origin", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() },
    {
      what: "urlencoded form, cross-site by Sec-Fetch-Site",
      headers: { "content-type": "application/x-www-form-urlencoded", origin, "sec-fetch-site": "cross-site" },
      body: new URLSearchParams(form).toString(),
    },
  ];
  for (const step of ["password", "code"]) {
    for (const { what, headers, body } of hostile) {
      const response = await request.post(`/login/${step}`, { headers, data: body, maxRedirects: 0 });
      expect([403, 415], `${step}: ${what}`).toContain(response.status());
      expect(response.headers()["set-cookie"] ?? "", `${step}: ${what}`).not.toMatch(/session-token=ey|signin-challenge=/);
    }
  }
  expect(await (await request.get("/api/auth/session")).json()).toBeNull();
  // The same request from the site itself is judged (the admin has no code due here): the refusals above were the check.
  const same = await request.post("/login/password", { headers: { "content-type": "application/json", origin }, data: JSON.stringify(form) });
  expect(await same.json()).toEqual({ status: "signed-in", to: "/" });
});

test("cross-site request forgery: Auth.js's sign-in and sign-out endpoints refuse a POST without their CSRF token", async ({ page, request }) => {
  const signInPost = await request.post("/api/auth/callback/credentials", {
    form: { challenge: "x", method: "none", code: "" },
    headers: { Origin: "https://evil.example" },
    maxRedirects: 0,
  });
  expect(signInPost.status()).toBeLessThan(500);
  expect(signInPost.headers()["set-cookie"] ?? "").not.toContain("session-token=ey");

  await signIn(page, ADMIN);
  const signOutPost = await page.request.post("/api/auth/signout", { form: {}, headers: { Origin: "https://evil.example" }, maxRedirects: 0 });
  expect(signOutPost.status()).toBeLessThan(500);
  const session = await (await page.request.get("/api/auth/session")).json();
  expect(session?.user?.email).toBe(ADMIN.email);
});

test("open redirect: a callbackUrl to another site is ignored after sign-in", async ({ browser, baseURL }) => {
  const app = new URL(baseURL!);
  for (const evil of ["https://evil.example", "//evil.example", "/\\evil.example", "https:evil.example", "/%2F%2Fevil.example", "javascript:alert(1)"]) {
    const context = await browser.newContext({ baseURL });
    const page = await context.newPage();
    await page.goto(`/login?callbackUrl=${encodeURIComponent(evil)}`);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("heading", { name: /Welcome/ }), evil).toBeVisible();
    expect(new URL(page.url()).host, evil).toBe(app.host);
    await context.close();
  }
  // The same for Auth.js's own endpoints, which take a callbackUrl too.
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await submitPassword(page, ADMIN.email, ADMIN.password);
  const { csrfToken } = await (await page.request.get("/api/auth/csrf")).json();
  const response = await page.request.post("/api/auth/signout", { form: { csrfToken, callbackUrl: "https://evil.example" }, maxRedirects: 0 });
  expect(response.headers()["location"] ?? "").not.toContain("evil.example");
  await context.close();
});
