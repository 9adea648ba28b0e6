import { expect, test } from "./fixtures/test";
import { decode, encode } from "next-auth/jwt";
import { ADMIN, addUser, enrollTwoFactor, freshCode, newUser, openMySettings, signIn, signInWithCode, signOut } from "./fixtures/app";
import { copySessionCookie, serverAuthSecret, sessionOf } from "./fixtures/sessions";
import { startTlsProxy } from "./fixtures/tls-proxy";

test("stolen session: enabling 2FA ends the user's other sessions but keeps this one", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Sessions"));
  const otherContext = await browser.newContext({ baseURL });
  const other = await otherContext.newPage();
  await signIn(other, user);
  await signIn(page, user);
  const copied = await copySessionCookie(otherContext);

  await enrollTwoFactor(page);
  await page.reload();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();

  await other.reload();
  await expect(other).toHaveURL(/\/login/);
  expect(await sessionOf(browser, baseURL!, copied)).toBeNull();
  await otherContext.close();
});

test("stolen session cookie: a copy stops working when its owner signs out", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Copied"));
  await signIn(page, user);
  const copied = await copySessionCookie(page.context());
  expect(await sessionOf(browser, baseURL!, copied)).toMatchObject({ email: user.email });
  await signOut(page);
  expect(await sessionOf(browser, baseURL!, copied)).toBeNull();
  // Only that session ended: the user signs in again as usual.
  await signIn(page, user);
});

test("stolen session cookie: Sign out everywhere ends every session, this one too", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Everywhere"));
  const otherContext = await browser.newContext({ baseURL });
  await signIn(await otherContext.newPage(), user);
  const copied = await copySessionCookie(otherContext);
  await signIn(page, user);
  const mine = await copySessionCookie(page.context());

  const dialog = await openMySettings(page);
  await dialog.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(page).toHaveURL(/\/login/);
  expect(await sessionOf(browser, baseURL!, copied)).toBeNull();
  expect(await sessionOf(browser, baseURL!, mine)).toBeNull();
  await otherContext.close();
});

test("stolen session cookie: changing the password ends the other sessions, needs the current password, and keeps this one", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Changer")); // not "Password": a name part in a new password is refused first
  const otherContext = await browser.newContext({ baseURL });
  await signIn(await otherContext.newPage(), user);
  const copied = await copySessionCookie(otherContext);
  await signIn(page, user);

  let dialog = await openMySettings(page);
  await dialog.getByRole("button", { name: "Change password" }).click();
  await dialog.getByLabel("Current password").fill("not my password");
  await dialog.getByLabel("New password").fill("attacker chosen tangerine kayak");
  await dialog.getByRole("button", { name: "Change password" }).click();
  await expect(dialog.getByText("Your current password is not correct.")).toBeVisible();
  expect(await sessionOf(browser, baseURL!, copied)).toMatchObject({ email: user.email });

  // A new password the rules refuse changes nothing, whatever the browser says (the server judges it).
  for (const [weak, why] of [
    ["Password1234567", "This password is too common: attackers try passwords like it first. Add a few unrelated words."],
    [`${user.email}!`, "This password contains your email address. Choose one without it."],
  ]) {
    await dialog.getByLabel("Current password").fill(user.password);
    await dialog.getByLabel("New password").fill(weak);
    await expect(dialog.getByRole("meter", { name: "Strength" })).toBeVisible();
    await dialog.getByRole("button", { name: "Change password" }).click();
    await expect(dialog.getByText(why, { exact: true })).toBeVisible();
  }
  expect(await sessionOf(browser, baseURL!, copied)).toMatchObject({ email: user.email });

  const newPassword = "a brand new walnut orbit";
  await dialog.getByLabel("Current password").fill(user.password);
  await dialog.getByLabel("New password").fill(newPassword);
  await dialog.getByRole("button", { name: "Change password" }).click();
  await expect(dialog.getByText("Password changed. You were signed out everywhere else.")).toBeVisible();
  expect(await sessionOf(browser, baseURL!, copied)).toBeNull();

  await page.reload();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  dialog = await openMySettings(page);
  await dialog.getByRole("button", { name: "Close" }).click();
  await signOut(page);
  await signIn(page, { email: user.email, password: newPassword });
  await otherContext.close();
});

test("stolen session cookie: an administrator removing the user's 2FA ends it", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Override"));
  await signIn(page, user);
  await enrollTwoFactor(page);
  const copied = await copySessionCookie(page.context());

  const adminContext = await browser.newContext({ baseURL });
  const admin = await adminContext.newPage();
  await signIn(admin, ADMIN);
  await admin.goto(`/admin/users?query=${encodeURIComponent(user.email)}`);
  await admin.getByRole("row", { name: new RegExp(user.email) }).getByRole("button", { name: /Actions/ }).click();
  await admin.getByRole("menuitem", { name: "Edit" }).click();
  const properties = admin.getByRole("dialog", { name: "User properties" });
  await properties.getByLabel("Two factor authentication enabled").uncheck();
  await properties.getByRole("button", { name: "Save" }).click();
  await properties.getByLabel("Password").fill(ADMIN.password);
  await properties.getByRole("button", { name: "Confirm" }).click();
  await expect(properties).toBeHidden();
  await expect.poll(() => sessionOf(browser, baseURL!, copied)).toBeNull();
  await adminContext.close();
});

test("forged session claims: the session update endpoint cannot raise the role or revive a session", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Forger"));
  await signIn(page, user);
  const { csrfToken } = await (await page.request.get("/api/auth/csrf")).json();
  const forged = { role: "admin", sv: 99, sub: "00000000-0000-0000-0000-000000000000", authTime: Math.floor(Date.now() / 1000), grant: "f".repeat(64) };
  const response = await page.request.post("/api/auth/session", { data: { csrfToken, data: forged } });
  expect(response.status()).toBeLessThan(500);
  const session = await (await page.request.get("/api/auth/session")).json();
  expect(session.user).toMatchObject({ email: user.email, role: "user" });
  const admin = await page.request.get("/admin/users");
  expect(admin.status()).toBe(404);
  expect(await sessionOf(browser, baseURL!, await copySessionCookie(page.context()))).toMatchObject({ role: "user" });
});

test("session cookie theft by script or by another site: the session cookie is HttpOnly and SameSite=Lax", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Cookie"));
  await signIn(page, user);
  const cookie = (await page.context().cookies()).find((c) => c.name.endsWith("authjs.session-token"))!;
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
  // 12 hours at most, whatever the activity.
  expect(cookie.expires * 1000 - Date.now()).toBeLessThanOrEqual(12 * 3600 * 1000 + 5_000);
  expect(await page.evaluate(() => document.cookie)).not.toContain("session-token");
});

test("session cookie sent over plain http: behind an https proxy every cookie is Secure", async ({ browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Https"));
  const setup = await browser.newContext({ baseURL });
  const setupPage = await setup.newPage();
  await signIn(setupPage, user);
  const enrolled = await enrollTwoFactor(setupPage);
  await setup.close();

  // Through a TLS-terminating proxy, as deployed: the browser is on https, the app sees X-Forwarded-Proto: https.
  const proxy = await startTlsProxy(baseURL!);
  const context = await browser.newContext({ baseURL: proxy.url, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const setCookies: string[] = [];
  page.on("response", async (response) => {
    for (const header of await response.headersArray()) if (header.name.toLowerCase() === "set-cookie") setCookies.push(header.value);
  });
  await signInWithCode(page, user, (await freshCode(enrolled.secret, enrolled.lastStep)).code);
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  // Ours (the sign-in challenge) as well as Auth.js's: every cookie that carries a secret is Secure.
  // (Auth.js's callback-url cookie holds only a URL: not a secret.)
  const setting = setCookies
    .flatMap((h) => h.split("\n"))
    .filter((c) => /^[^=]*(session-token|signin-challenge|trusted-browser|csrf-token)=/.test(c))
    .filter((c) => !/^[^=]+=;/.test(c) && !/Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(c));
  expect(setting.some((c) => c.startsWith("signin-challenge="))).toBe(true);
  for (const cookie of setting) expect(cookie, cookie.split("=")[0]).toMatch(/;\s*Secure/i);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "__Secure-authjs.session-token");
  expect(session, "the session cookie carries the __Secure- prefix").toBeTruthy();
  expect(session).toMatchObject({ secure: true, httpOnly: true });
  await context.close();
  await proxy.close();
});

test("session older than 12 hours: refused even with a valid signature", async ({ browser, baseURL }, testInfo) => {
  const user = await addUser(browser, baseURL!, newUser("Old"));
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signIn(page, user);
  const { user: me } = await (await page.request.get("/api/auth/session")).json();
  const secret = serverAuthSecret(testInfo);
  const salt = "authjs.session-token";
  // The session id stays out of /api/auth/session: the forger, holding the key, reads it from the cookie.
  const cookie = (await context.cookies()).find((c) => c.name === salt)!;
  const sessionId = (await decode({ secret, salt, token: cookie.value }))?.sid;
  expect(typeof sessionId).toBe("string");
  await context.close();

  const now = Math.floor(Date.now() / 1000);
  const forge = (ageSeconds: number) =>
    encode({ secret, salt, maxAge: 24 * 3600, token: { sub: me.id, sid: sessionId, sv: 0, authTime: now - ageSeconds } });
  // The forger holds the key and a live session's id, so only the age decides: 11 h 59 min passes, 12 h 1 min does not.
  expect(await sessionOf(browser, baseURL!, `${salt}=${await forge(12 * 3600 - 60)}`)).toMatchObject({ id: me.id });
  expect(await sessionOf(browser, baseURL!, `${salt}=${await forge(12 * 3600 + 60)}`)).toBeNull();
  // …and without the id of a session the server issued, no token opens one, whatever its age.
  const unissued = await encode({ secret, salt, maxAge: 24 * 3600, token: { sub: me.id, sid: crypto.randomUUID(), sv: 0, authTime: now } });
  expect(await sessionOf(browser, baseURL!, `${salt}=${unissued}`)).toBeNull();
});
