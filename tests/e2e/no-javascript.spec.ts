import { expect, test } from "./fixtures/test";
import { addUser, enrollTwoFactor, freshCode, newUser, signIn, signOut, wrongCode } from "./fixtures/app";

// Issue 13: /login signs in with JavaScript turned off. The forms post themselves to the same step
// handlers, which answer a plain form with a redirect; the CSRF rules stay as strict.

test("with JavaScript off: a wrong password, a wrong code, then the right code signs in; a recovery code by the link", async ({ page, browser, baseURL }) => {
  test.setTimeout(180_000);
  const alice = await addUser(browser, baseURL!, newUser("Nojs"));
  await signIn(page, alice);
  const enrolled = await enrollTwoFactor(page);
  await signOut(page);

  const context = await browser.newContext({ baseURL, javaScriptEnabled: false });
  const noJs = await context.newPage();
  try {
    await noJs.goto("/login?callbackUrl=%2Fadmin%2Fusers");
    await noJs.getByLabel("Email").fill(alice.email);
    await noJs.getByLabel("Password").fill("not-the-password-at-all");
    await noJs.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(noJs.getByText("Incorrect email or password.")).toBeVisible();
    await expect(noJs).toHaveURL(/\/login\?callbackUrl=%2Fadmin%2Fusers&error=signInFailed$/);

    await noJs.getByLabel("Email").fill(alice.email);
    await noJs.getByLabel("Password").fill(alice.password);
    await noJs.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(noJs.getByLabel("Authentication code")).toBeVisible();

    await noJs.getByLabel("Authentication code").fill(wrongCode(enrolled.secret));
    await noJs.getByRole("button", { name: "Verify" }).click();
    await expect(noJs.getByText("That code is not valid. Check your authenticator app and try again.")).toBeVisible();
    await expect(noJs.getByLabel("Authentication code")).toBeVisible();

    const { code } = await freshCode(enrolled.secret, enrolled.lastStep);
    await noJs.getByLabel("Authentication code").fill(code);
    await noJs.getByRole("button", { name: "Verify" }).click();
    // Alice is no administrator: the callback she was sent to refuses her, but she is signed in.
    await expect(noJs).not.toHaveURL(/\/login/);
    expect((await context.cookies()).some((c) => c.name === "authjs.session-token" && c.httpOnly)).toBe(true);
    await noJs.goto("/");
    await expect(noJs.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  } finally {
    await context.close();
  }

  // A recovery code, through the switch, which is a link without JavaScript.
  const second = await browser.newContext({ baseURL, javaScriptEnabled: false });
  const again = await second.newPage();
  try {
    await again.goto("/login");
    await again.getByLabel("Email").fill(alice.email);
    await again.getByLabel("Password").fill(alice.password);
    await again.getByRole("button", { name: "Sign in", exact: true }).click();
    await again.getByRole("link", { name: "Use a recovery code" }).click();
    await again.getByLabel("Recovery code").fill(enrolled.recoveryCodes[0]);
    await again.getByRole("button", { name: "Verify" }).click();
    await expect(again.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  } finally {
    await second.close();
  }
});

test("login CSRF with JavaScript-free forms: a form posted from another site, or without an Origin, is refused and opens no challenge", async ({ browser, baseURL }) => {
  const bob = await addUser(browser, baseURL!, newUser("Csrf"));
  const context = await browser.newContext({ baseURL });
  try {
    const form = { email: bob.email, password: bob.password, callbackUrl: "/" };
    const crossSite = await context.request.post("/login/password", {
      form,
      headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      maxRedirects: 0,
    });
    expect(crossSite.status()).toBe(403);
    // An Origin that names this host but a browser saying the form came from elsewhere.
    const spoofed = await context.request.post("/login/password", {
      form,
      headers: { origin: baseURL!, "sec-fetch-site": "cross-site" },
      maxRedirects: 0,
    });
    expect(spoofed.status()).toBe(403);
    const noOrigin = await context.request.post("/login/password", { form, headers: { origin: "null" }, maxRedirects: 0 });
    expect(noOrigin.status()).toBe(403);
    for (const response of [crossSite, spoofed, noOrigin]) expect(response.headers()["set-cookie"] ?? "").not.toContain("signin-challenge");
    const cookies = (await context.cookies()).map((c) => c.name);
    expect(cookies).not.toContain("signin-challenge");
    expect(cookies).not.toContain("authjs.session-token");
    // The same form from this site's own page is answered with a redirect (Bob has no 2FA: straight in).
    const sameSite = await context.request.post("/login/password", { form, headers: { origin: baseURL! }, maxRedirects: 0 });
    expect(sameSite.status()).toBe(303);
    expect(sameSite.headers()["location"]).toBe("/");
  } finally {
    await context.close();
  }
});
