import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures/test";
import { ADMIN, addUser, freshCode, newUser, openMySettings, signIn } from "./fixtures/app";

// Issue 6, item 2: a phone, dark mode, pending states, confirmations, empty states, the 404 page, the Setup key.

const PHONE = { width: 375, height: 740 };

async function expectNoSidewaysScroll(page: Page, where: string): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${where} scrolls sideways by ${overflow}px at ${PHONE.width}px`).toBeLessThanOrEqual(0);
}

test("on a 375 px phone no page scrolls sideways, and each user's Two-factor state and Actions are on screen", async ({ browser, baseURL }) => {
  const phone = await browser.newContext({ baseURL, viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await page.goto("/login");
  await expectNoSidewaysScroll(page, "/login");
  await signIn(page, ADMIN);
  for (const path of ["/", "/admin/settings", "/admin/users", "/admin/audit", "/admin/users?query=nobody-matches-this"]) {
    await page.goto(path);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expectNoSidewaysScroll(page, path);
  }
  await page.goto(`/admin/users?query=${encodeURIComponent(ADMIN.email)}`);
  const row = page.getByRole("row", { name: new RegExp(ADMIN.email) });
  for (const target of [row.getByText("Off", { exact: true }).or(row.getByText("Enabled", { exact: true })), row.getByRole("button", { name: "Actions" })]) {
    await expect(target).toBeInViewport({ ratio: 1 });
  }
  const dialog = await openMySettings(page);
  await expectNoSidewaysScroll(page, "My Settings");
  await expect(dialog.getByRole("button", { name: "Close" })).toBeInViewport({ ratio: 1 });
  const dialogOverflow = () => dialog.evaluate((element) => element.scrollWidth - element.clientWidth);
  expect(await dialogOverflow(), "My Settings scrolls sideways").toBeLessThanOrEqual(0);
  await dialog.getByRole("button", { name: "Enable" }).click();
  await expect(dialog.getByLabel("Setup key")).toBeVisible();
  expect(await dialogOverflow(), "enrollment scrolls sideways").toBeLessThanOrEqual(0);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await phone.close();
});

test("on a 375 px phone the recovery codes (six groups of four) each fit on one line, and the dialog does not scroll sideways", async ({ browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("PhoneCodes"));
  const phone = await browser.newContext({ baseURL, viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await signIn(page, user);
  const dialog = await openMySettings(page);
  await dialog.getByRole("button", { name: "Enable" }).click();
  const secret = (await dialog.getByLabel("Setup key").innerText()).replace(/\s/g, "");
  await dialog.getByLabel("Authentication code").fill((await freshCode(secret)).code);
  await dialog.getByRole("button", { name: "Verify" }).click();
  const codes = dialog.getByRole("list", { name: "Recovery codes" }).getByRole("listitem");
  await expect(codes).toHaveCount(10);
  for (const code of await codes.all()) {
    await expect(code).toHaveText(/^[0-9a-z]{4}(-[0-9a-z]{4}){5}$/);
    const box = await code.evaluate((element) => ({ lines: Math.round(element.getBoundingClientRect().height / parseFloat(getComputedStyle(element).lineHeight)), overflow: element.scrollWidth - element.clientWidth }));
    expect(box, "a code wraps or overflows its cell").toEqual({ lines: 1, overflow: 0 });
  }
  expect(await dialog.evaluate((element) => element.scrollWidth - element.clientWidth), "the codes scroll sideways").toBeLessThanOrEqual(0);
  await expectNoSidewaysScroll(page, "the recovery codes");
  await phone.close();
});

test("dark mode follows the system's setting", async ({ page }) => {
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  // Rough luminance of an "rgb(r, g, b)" or "oklch(…)" colour, through a canvas so either form works.
  const luminance = () =>
    page.evaluate(() => {
      const context = document.createElement("canvas").getContext("2d")!;
      context.fillStyle = getComputedStyle(document.body).backgroundColor;
      context.fillRect(0, 0, 1, 1);
      const [r, g, b] = context.getImageData(0, 0, 1, 1).data;
      return (0.2126 * r! + 0.7152 * g! + 0.0722 * b!) / 255;
    });
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto("/login");
  const light = await background();
  expect(await luminance()).toBeGreaterThan(0.9);
  await page.emulateMedia({ colorScheme: "dark" });
  await expect.poll(luminance).toBeLessThan(0.15);
  expect(await background()).not.toBe(light);
});

test("a submit button shows it is working until the server answers, then the change is confirmed", async ({ page, browser, baseURL }) => {
  const admin = await addUser(browser, baseURL!, newUser("Pending"), true);
  // Hold every POST for a moment, long enough to see the pending state, then let it through.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/*", async (route) => {
    if (route.request().method() === "POST") await held;
    await route.continue();
  });

  await page.goto("/login");
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  const signingIn = page.getByRole("button", { name: /Sign in.*working/ });
  await expect(signingIn).toBeDisabled();
  release();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  await page.unroute("**/*");

  // A server action (Save in Settings → Security): pending, then "Saved."
  let releaseSave!: () => void;
  const heldSave = new Promise<void>((resolve) => (releaseSave = resolve));
  await page.goto("/admin/settings");
  await page.route("**/admin/settings", async (route) => {
    if (route.request().method() === "POST") await heldSave;
    await route.continue();
  });
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("button", { name: /Save.*working/ })).toBeDisabled();
  releaseSave();
  await expect(page.getByText("Saved.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Save", exact: true })).toBeEnabled();
  await page.unroute("**/admin/settings");

  // A search navigates on the client: its button is pending until the results arrive.
  let releaseSearch!: () => void;
  const heldSearch = new Promise<void>((resolve) => (releaseSearch = resolve));
  await page.goto("/admin/users");
  await page.route(/\/admin\/users\?.*query=/, async (route) => {
    await heldSearch;
    await route.continue();
  });
  await page.getByLabel("Search").fill(admin.email);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByRole("button", { name: /Search.*working/ })).toBeDisabled();
  releaseSearch();
  await expect(page).toHaveURL(new RegExp(`query=${encodeURIComponent(admin.email).replace(/\./g, "\\.")}`));
  await expect(page.getByRole("row")).toHaveCount(2);
  await page.unroute(/\/admin\/users\?.*query=/);

  // User properties closes on Save: the confirmation comes as a toast on the page.
  await page.getByRole("row", { name: new RegExp(admin.email) }).getByRole("button", { name: "Actions" }).click();
  await page.getByRole("menuitem", { name: "Edit" }).click();
  const properties = page.getByRole("dialog", { name: "User properties" });
  await properties.getByLabel("Name").fill(`${admin.name} Renamed`);
  await properties.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Saved the changes to ${admin.name}.` })).toBeVisible();
  await expect(page.getByRole("row", { name: new RegExp(admin.email) })).toContainText(`${admin.name} Renamed`);
});

test("empty states say what is empty and offer the way back", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto("/admin/users?query=nobody-matches-this");
  await expect(page.getByText("No users match", { exact: true })).toBeVisible();
  await expect(page.getByText(/contains “nobody-matches-this”/)).toBeVisible();
  await page.getByRole("link", { name: "Show all users" }).click();
  await expect(page.getByRole("row", { name: new RegExp(ADMIN.email) })).toBeVisible();
  await expect(page.getByLabel("Search")).toHaveValue("");

  await page.goto("/admin/audit?user=nobody%40example.com");
  await expect(page.getByText("No events match these filters", { exact: true })).toBeVisible();
  await page.getByRole("link", { name: "Show every event" }).click();
  await expect(page.getByRole("cell").first()).toBeVisible();
  await expect(page.getByLabel("User email")).toHaveValue("");
});

// Signed out, every unknown address leads to the sign-in page first (proxy.ts); signed in, it is a 404.
test("an unknown address shows the product's 404 page with a way back", async ({ page }) => {
  await signIn(page, ADMIN);
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await page.getByRole("link", { name: "Back to the start" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
});

test("enrollment shows a crisp SVG QR code and the Setup key in groups of four with a working copy button", async ({ page, browser, baseURL, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const user = await addUser(browser, baseURL!, newUser("Qr"));
  await signIn(page, user);
  const dialog = await openMySettings(page);
  await dialog.getByRole("button", { name: "Enable" }).click();
  const qr = dialog.getByRole("img", { name: /QR/ });
  await expect(qr).toHaveAttribute("src", /^data:image\/svg\+xml/);
  const shown = await dialog.getByLabel("Setup key").innerText();
  expect(shown).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{4})*( [A-Z2-7]{1,3})?$/);
  await dialog.getByRole("button", { name: "Copy setup key" }).click();
  await expect(dialog.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(shown.replace(/ /g, ""));
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog.getByRole("button", { name: "Enable" })).toBeVisible();
});

test("Home offers Set up two-factor authentication, which opens My Settings", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Home"));
  await signIn(page, user);
  await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
  const dialog = page.getByRole("dialog", { name: "My Settings" });
  await expect(dialog.getByRole("button", { name: "Enable" })).toBeVisible();
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(page.getByRole("button", { name: "Set up two-factor authentication" })).toBeFocused();
});
