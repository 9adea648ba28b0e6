import { type APIRequestContext, type Page, type Request } from "@playwright/test";
import { expect, test } from "./fixtures/test";
import { addUser, enrollTwoFactor, freshCode, newUser, signIn, signOut, submitPassword, wrongCode, type TestUser } from "./fixtures/app";

/**
 * Red team (helper-redteam), over HTTP: a password holder who skips the app's
 * own pages and talks to the endpoints behind them — the Auth.js credentials
 * callback with forged fields, and the owner's server-action requests of
 * forced enrollment replayed from the attacker's browser.
 */

async function hasSession(request: APIRequestContext): Promise<boolean> {
  return (await (await request.get("/api/auth/session")).json()) !== null;
}

/** The password step as the app's own page sends it (JSON, same Origin); the challenge cookie lands in `request`'s jar. */
async function passwordStep(request: APIRequestContext, baseURL: string, user: TestUser): Promise<string> {
  const response = await request.post("/login/password", { data: { email: user.email, password: user.password, callbackUrl: "/" }, headers: { origin: baseURL } });
  expect(response.status()).toBe(200);
  const answer = await response.json();
  expect(answer.status).toBe("idle");
  const challenge = (await request.storageState()).cookies.find((c) => c.name === "signin-challenge");
  expect(challenge, "the password step set the challenge cookie").toBeTruthy();
  return challenge!.value;
}

/** POST /api/auth/callback/credentials by hand, with Auth.js's own CSRF token: any field the attacker likes. */
async function postCredentials(request: APIRequestContext, baseURL: string, fields: Record<string, string>) {
  const { csrfToken } = await (await request.get("/api/auth/csrf")).json();
  const response = await request.post("/api/auth/callback/credentials", {
    form: { csrfToken, callbackUrl: baseURL, ...fields },
    headers: { origin: baseURL },
    maxRedirects: 0,
  });
  expect(response.status()).toBeLessThan(500);
}

test("the password holder posts Auth.js's credentials callback directly with a stolen challenge and forged method, trust and trustToken: no session", async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const owner = await addUser(browser, baseURL!, newUser("Callback"));
  const ownerContext = await browser.newContext({ baseURL });
  const ownerPage = await ownerContext.newPage();
  await signIn(ownerPage, owner);
  const { secret, lastStep } = await enrollTwoFactor(ownerPage);
  await signOut(ownerPage);
  await ownerContext.close();

  const attacker = await browser.newContext({ baseURL });
  const forgeries: Record<string, string>[] = [
    { method: "none", code: "" },
    { method: "enrolled", code: "" },
    { method: "trusted", code: "", trustToken: "A".repeat(43) },
    { method: "totp", code: wrongCode(secret), trust: "on" },
    { method: "TOTP", code: "" },
    { method: "recovery", code: "zzzz-zzzz-zzzz-zzzz" },
  ];
  for (const forged of forgeries) {
    const challenge = await passwordStep(attacker.request, baseURL!, owner);
    await postCredentials(attacker.request, baseURL!, { challenge, ...forged });
    expect(await hasSession(attacker.request), `method ${forged.method} issued a session`).toBe(false);
    expect((await attacker.cookies()).some((c) => c.name.includes("session-token") || c.name === "trusted-browser")).toBe(false);
  }
  // Control: the same hand-made request with the right code does sign in, so the refusals above are the app's.
  const challenge = await passwordStep(attacker.request, baseURL!, owner);
  const { code } = await freshCode(secret, lastStep);
  await postCredentials(attacker.request, baseURL!, { challenge, method: "totp", code });
  expect(await hasSession(attacker.request)).toBe(true);
  await attacker.close();
});

async function requireTwoFactor(browser: import("@playwright/test").Browser, baseURL: string, user: TestUser): Promise<void> {
  const adminUser = await addUser(browser, baseURL, newUser("Admin"), true);
  const context = await browser.newContext({ baseURL });
  const admin = await context.newPage();
  await signIn(admin, adminUser);
  await admin.goto(`/admin/users?query=${encodeURIComponent(user.email)}`);
  await admin.getByRole("row", { name: new RegExp(user.email) }).getByRole("button", { name: "Actions" }).click();
  await admin.getByRole("menuitem", { name: "Edit" }).click();
  const dialog = admin.getByRole("dialog", { name: "User properties" });
  await dialog.getByLabel("Two factor authentication enabled").check();
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.getByLabel("Password").fill(adminUser.password);
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await expect(dialog).toBeHidden();
  await context.close();
}

type Captured = { headers: Record<string, string>; body: Buffer | null };

function captureActions(page: Page): Captured[] {
  const captured: Captured[] = [];
  page.on("request", (request: Request) => {
    const headers = request.headers();
    if (request.method() === "POST" && headers["next-action"]) captured.push({ headers, body: request.postDataBuffer() });
  });
  return captured;
}

/** Sends a captured server-action request again, byte for byte, with the cookies of `request`. */
async function replay(request: APIRequestContext, baseURL: string, captured: Captured) {
  const keep = ["next-action", "content-type", "accept", "next-router-state-tree"];
  const headers = Object.fromEntries(Object.entries(captured.headers).filter(([name]) => keep.includes(name)));
  const response = await request.post("/login", { headers: { ...headers, origin: new URL(baseURL).origin }, data: captured.body ?? "", maxRedirects: 0 });
  return { status: response.status(), body: await response.text() };
}

test("the password holder replays the owner's forced-enrollment requests (Verify, Done) from their own enroll challenge: no session", async ({ page, browser, baseURL }) => {
  test.setTimeout(240_000); // two users, an admin's confirmation and a whole enrollment through the UI
  const owner = await addUser(browser, baseURL!, newUser("Replayed"));
  await requireTwoFactor(browser, baseURL!, owner);

  // The password holder opens an enroll challenge of their own first, and waits.
  const attacker = await browser.newContext({ baseURL });
  await passwordStep(attacker.request, baseURL!, owner);

  // The owner enrols at their own sign-in; the browser's server-action requests are captured.
  const captured = captureActions(page);
  await submitPassword(page, owner.email, owner.password);
  await expect(page.getByRole("heading", { name: "Set up two-factor authentication" })).toBeVisible();
  const secret = (await page.getByLabel("Setup key").innerText()).replace(/\s/g, "");
  const { code } = await freshCode(secret);
  await page.getByLabel("Authentication code").fill(code);
  await page.getByRole("button", { name: "Verify" }).click();
  const continueButton = page.getByRole("button", { name: "Continue" });
  await expect(continueButton).toBeDisabled();
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download" }).click();
  await download;
  await continueButton.click();
  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  expect(captured.length, "the enrollment's server actions were captured").toBeGreaterThanOrEqual(3);

  // Every captured request (start, Verify with the owner's code, Done), replayed from the attacker's browser.
  for (const request of captured) {
    const answer = await replay(attacker.request, baseURL!, request);
    expect(answer.status).toBeLessThan(500);
    expect(answer.body).not.toMatch(/[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}/); // no recovery codes
    expect(answer.body).not.toContain(secret);
    expect(await hasSession(attacker.request)).toBe(false);
  }
  expect((await attacker.cookies()).some((c) => c.name.includes("session-token"))).toBe(false);
  await attacker.close();
});
