import type { APIRequestContext, Browser } from "@playwright/test";
import { expect, test } from "./fixtures/test";
import { ADMIN, addUser, enrollTwoFactor, newUser, signIn, signOut, submitPassword } from "./fixtures/app";
import { callServerAction, serverActionIds } from "./fixtures/server-actions";

const REFUSED = "You are not allowed to do that.";

type Call = { name: string; args: { before?: unknown[]; form?: Record<string, string> } };

/** Every admin action with arguments that would do harm if it ran. */
function adminCalls(victimId: string): Call[] {
  return [
    { name: "addUserAction", args: { before: [{ status: "idle" }], form: { name: "Mallory", email: "mallory@example.com", password: "Tangerine kayak 7 orbit", admin: "on" } } },
    { name: "saveSecuritySettingsAction", args: { before: [{ status: "idle" }], form: { trustBrowserDays: "90", requireTwoFactorFor: "nobody", requireGraceDays: "0" } } },
    { name: "saveUserPropertiesAction", args: { before: [victimId, { status: "idle" }], form: { name: "Pwned", email: "pwned@example.com", twoFactorEnabled: "" } } },
    { name: "confirmAdminAction", args: { before: [{ status: "idle" }], form: { secret: "000000" } } },
    { name: "removeUserTrustedBrowsersAction", args: { before: [victimId] } },
    { name: "removeUserSecurityKeysAction", args: { before: [victimId, { status: "idle" }], form: { keyId: "all" } } },
  ];
}

async function callAll(request: APIRequestContext, victimId: string, headers: Record<string, string> = {}) {
  const ids = serverActionIds();
  for (const call of adminCalls(victimId)) {
    const id = ids.get(call.name);
    expect(id, `${call.name} is in the client bundles`).toBeTruthy();
    const { status, body } = await callServerAction(request, id!, call.args, headers);
    expect(status, call.name).toBeLessThan(500);
    expect(body, `${call.name} refuses`).toContain(REFUSED);
  }
  const load = await callServerAction(request, ids.get("loadUserPropertiesAction")!, { before: [victimId] }, headers);
  expect(load.body).not.toContain(ADMIN.email);
}

async function expectNothingChanged(browser: Browser, baseURL: string) {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signIn(page, ADMIN);
  await page.goto("/admin/users?query=mallory%40example.com");
  await expect(page.getByText("No users match", { exact: true })).toBeVisible();
  await page.goto(`/admin/users?query=${encodeURIComponent(ADMIN.email)}`);
  await expect(page.getByRole("row", { name: new RegExp(ADMIN.email) })).toContainText("Administrator");
  await page.goto("/admin/settings");
  await expect(page.getByLabel("Enable two factor user login")).toBeChecked();
  await expect(page.getByLabel("Days a trusted browser skips the code")).not.toHaveValue("90");
  await context.close();
}

async function adminId(browser: Browser, baseURL: string): Promise<string> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signIn(page, ADMIN);
  const session = await (await page.request.get("/api/auth/session")).json();
  await context.close();
  return session.user.id;
}

test("privilege escalation: a signed-in non-admin calling every admin server action by its id changes nothing", async ({ page, browser, baseURL }) => {
  const victim = await adminId(browser, baseURL!);
  const user = await addUser(browser, baseURL!, newUser("Attacker"));
  await signIn(page, user);
  await callAll(page.request, victim);
  await expectNothingChanged(browser, baseURL!);
});

test("privilege escalation: with no session, or only a pending second step, the admin actions refuse", async ({ page, browser, baseURL }) => {
  const victim = await adminId(browser, baseURL!);
  // No session: a cookie-shaped string gets past the proxy's shortcut, so each action's own guard answers.
  await callAll(page.request, victim, { cookie: "authjs.session-token=forged" });

  const admin = await addUser(browser, baseURL!, newUser("Pending"), true);
  await signIn(page, admin);
  await enrollTwoFactor(page);
  await signOut(page);
  await submitPassword(page, admin.email, admin.password); // an admin's password, no code yet
  await expect(page.getByLabel("Authentication code")).toBeVisible();
  // The pending challenge, sent by hand to the admin pages' path (a cookie path binds browsers, not attackers),
  // next to a cookie-shaped session token so that the action's own guard answers, not the proxy.
  const challenge = (await page.context().cookies()).find((c) => c.name === "signin-challenge");
  expect(challenge).toBeTruthy();
  await callAll(page.request, victim, { cookie: `signin-challenge=${challenge!.value}; authjs.session-token=forged` });
  await expectNothingChanged(browser, baseURL!);
});
