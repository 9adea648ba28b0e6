import { type Page, type Request } from "@playwright/test";
import { expect, test } from "./fixtures/test";
import { ADMIN, confirmWithPassword, newUser, signIn } from "./fixtures/app";

// Turns two-factor login off for the whole server for a moment: runs in a project of its own, after the others.

async function openSecuritySettings(page: Page) {
  await page.goto("/admin/settings");
  await expect(page.getByRole("heading", { name: "Security" })).toBeVisible();
  return { toggle: page.getByLabel("Enable two factor user login"), days: page.getByLabel("Days a trusted browser skips the code") };
}

/** Back to two-factor login on (needs no confirmation), whatever the test left. */
async function turnTwoFactorOn(page: Page) {
  const { toggle } = await openSecuritySettings(page);
  if (await toggle.isChecked()) return;
  await toggle.check();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
}

test("Settings → Security: Enable two factor user login off asks to Confirm first, then saves exactly what was asked", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signIn(page, ADMIN);
  const { toggle, days } = await openSecuritySettings(page);
  const originalDays = await days.inputValue();
  const askedDays = String(Number(originalDays) - 1);
  try {
    await toggle.uncheck();
    await days.fill(askedDays);
    await page.getByRole("button", { name: "Save" }).click();
    const confirm = page.getByRole("dialog", { name: "Confirm the change" });
    await expect(confirm.getByLabel("Password")).toBeVisible();
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await expect(confirm).toBeHidden();
    await page.reload();
    await expect(toggle, "nothing saved before the confirmation").toBeChecked();
    await expect(days).toHaveValue(originalDays);

    await toggle.uncheck();
    await days.fill(askedDays);
    await page.getByRole("button", { name: "Save" }).click();
    await confirm.getByLabel("Password").fill("not the password");
    await confirm.getByRole("button", { name: "Confirm" }).click();
    await expect(confirm.getByText("That did not match. Try again.")).toBeVisible();
    await confirmWithPassword(confirm, ADMIN.password);
    await expect(page.getByText("Saved.")).toBeVisible();
    await expect(confirm).toBeHidden();
    await page.reload();
    await expect(toggle).not.toBeChecked();
    await expect(days).toHaveValue(askedDays);
  } finally {
    // Confirmed within the last 5 minutes in this session: longer days again are not asked for.
    await openSecuritySettings(page);
    await toggle.check();
    await days.fill(originalDays);
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByText("Saved.")).toBeVisible();
    await context.close();
  }
});

test("replay: the Save a browser sent, posted from a second session of the same admin that never confirmed, is refused and changes nothing", async ({ browser, baseURL }) => {
  const first = await browser.newContext({ baseURL });
  const page = await first.newPage();
  await signIn(page, ADMIN);
  const { toggle } = await openSecuritySettings(page);
  const saves: Request[] = [];
  page.on("request", (request) => {
    if (request.method() === "POST" && request.headers()["next-action"]) saves.push(request);
  });
  const second = await browser.newContext({ baseURL });
  try {
    await toggle.uncheck();
    await page.getByRole("button", { name: "Save" }).click();
    await confirmWithPassword(page, ADMIN.password);
    await expect(page.getByText("Saved.")).toBeVisible();
    const save = saves[0]; // the Save as the browser sent it (answered "confirm"; sent again unchanged after Confirm)
    expect(saves.map((r) => r.headers()["next-action"])).toEqual([save.headers()["next-action"], expect.any(String), save.headers()["next-action"]]);
    const replay = (request: typeof page.request) =>
      request.post("/admin/settings", {
        headers: Object.fromEntries(Object.entries(save.headers()).filter(([name]) => !["cookie", "content-length", "host"].includes(name))),
        data: save.postDataBuffer()!,
        maxRedirects: 0,
      });
    await turnTwoFactorOn(page);

    const stolen = await second.newPage();
    await signIn(stolen, ADMIN); // the same admin, another session: a copied password, or a cookie taken elsewhere
    const session = await (await stolen.request.get("/api/auth/session")).json();
    expect(Object.keys(session).sort(), "the session id stays on the server").toEqual(["expires", "user"]);
    expect(Object.keys(session.user).sort()).toEqual(["email", "id", "name", "role"]);
    const refused = await replay(stolen.request);
    expect(refused.status()).toBeLessThan(500);
    const body = await refused.text();
    expect(body).toContain('"status":"confirm"');
    expect(body).not.toContain("Saved.");
    await openSecuritySettings(stolen);
    await expect(stolen.getByLabel("Enable two factor user login"), "still on").toBeChecked();

    // The very same request from the session that confirmed goes through: the replay itself was sound.
    const accepted = await (await replay(page.request)).text();
    expect(accepted).toContain("Saved.");
    await openSecuritySettings(stolen);
    await expect(stolen.getByLabel("Enable two factor user login")).not.toBeChecked();
  } finally {
    await turnTwoFactorOn(page);
    await first.close();
    await second.close();
  }
});

test("Add user with Administrator asks to Confirm; Cancel adds nobody, Confirm adds the administrator as typed", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto("/admin/users");
  const dialog = page.getByRole("dialog", { name: "Add user" });
  const fill = async (user: { name: string; email: string; password: string }) => {
    await page.getByRole("button", { name: "Add user" }).click();
    await dialog.getByLabel("Name").fill(user.name);
    await dialog.getByLabel("Email").fill(user.email);
    await dialog.getByLabel("Password").fill(user.password);
    await dialog.getByLabel("Administrator").check();
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect(dialog.getByRole("button", { name: "Confirm" })).toBeVisible();
  };
  const cancelled = newUser("Cancelled");
  await fill(cancelled);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await page.goto(`/admin/users?query=${encodeURIComponent(cancelled.email)}`);
  await expect(page.getByText("No users match", { exact: true })).toBeVisible();

  const added = newUser("Confirmed");
  await fill(added);
  await confirmWithPassword(dialog, ADMIN.password);
  await expect(page.getByText(`${added.name} was added.`)).toBeVisible();
  await page.goto(`/admin/users?query=${encodeURIComponent(added.email)}`);
  await expect(page.getByRole("row", { name: new RegExp(added.email) })).toContainText("Administrator");
  await expect(page.getByRole("row", { name: new RegExp(added.email) })).toContainText(added.name);
});
