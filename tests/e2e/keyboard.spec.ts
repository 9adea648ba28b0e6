import { readFileSync } from "node:fs";
import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures/test";
import { ADMIN, addUser, freshCode, newUser, wrongCode, type TestUser } from "./fixtures/app";
import { expectFocusTrapped, tabTo } from "./fixtures/keyboard";

// Only page.keyboard acts here: no click, no fill. Locators only read (what is focused, visible, enabled).

const focused = (page: Page) => page.locator(":focus");
const profileButton = (page: Page, user: TestUser) => page.getByRole("banner").getByRole("button", { name: user.name });

async function signInByKeyboard(page: Page, user: TestUser): Promise<void> {
  await tabTo(page, page.getByLabel("Email"));
  await page.keyboard.type(user.email);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.type(user.password);
  await page.keyboard.press("Enter");
}

async function openMySettingsByKeyboard(page: Page, user: TestUser) {
  await tabTo(page, profileButton(page, user));
  await page.keyboard.press("Enter");
  await expect(page.getByRole("menuitem", { name: "My Settings" })).toBeFocused();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "My Settings" });
  await expect(dialog).toBeVisible();
  return dialog;
}

test("keyboard only: sign in, enable 2FA in My Settings, sign out, sign in with a code, disable 2FA", async ({ page, browser, baseURL }) => {
  test.setTimeout(180_000);
  const user = await addUser(browser, baseURL!, newUser("Keyboard"));
  await page.goto("/login");
  await expect(page.getByLabel("Email")).toBeFocused();
  await signInByKeyboard(page, user);
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();

  // Profile menu → My Settings → Enable.
  let dialog = await openMySettingsByKeyboard(page, user);
  await tabTo(page, dialog.getByRole("button", { name: "Enable" }));
  await page.keyboard.press("Enter");
  const codeField = dialog.getByLabel("Authentication code");
  await expect(codeField).toBeFocused();
  const secret = (await dialog.getByLabel("Setup key").innerText()).replace(/\s/g, "");
  const first = await freshCode(secret);
  await page.keyboard.type(first.code);
  await page.keyboard.press("Enter");

  // Recovery codes: focus on the step's heading, Download, then Continue.
  await expect(dialog.getByRole("heading", { name: "Save your recovery codes" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(dialog.getByRole("button", { name: "Download" })).toBeFocused();
  const download = page.waitForEvent("download");
  await page.keyboard.press("Enter");
  expect(readFileSync((await (await download).path())!, "utf8").trim().split("\n")).toHaveLength(10);
  await page.keyboard.press("Tab");
  await expect(dialog.getByRole("button", { name: "Continue" })).toBeFocused();
  await page.keyboard.press("Space");
  await expect(dialog.getByRole("heading", { name: "Two-factor authentication is enabled" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(dialog.getByRole("button", { name: "Done" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(dialog.getByRole("status").filter({ hasText: "from now on, sign-in asks for a code" })).toBeFocused();
  await expect(dialog.getByRole("button", { name: "Disable" })).toBeVisible();

  // Escape closes My Settings; focus is back on the profile button, which signs out through its menu.
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(profileButton(page, user)).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("menuitem", { name: "My Settings" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("menuitem", { name: "Sign out" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/login/);

  // Sign in with a code.
  await signInByKeyboard(page, user);
  await expect(page.getByRole("heading", { name: /Two-factor/ })).toBeVisible();
  await expect(page.getByLabel("Authentication code")).toBeFocused();
  // A wrong code sent with the Verify button: the error is tied to the field, focus stays on Verify.
  await page.keyboard.type(wrongCode(secret));
  await tabTo(page, page.getByRole("button", { name: "Verify" }));
  await page.keyboard.press("Enter");
  await expect(page.getByText("That code is not valid.", { exact: false })).toBeVisible();
  await expect(page.getByLabel("Authentication code")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByRole("button", { name: "Verify" })).toBeFocused();
  await tabTo(page, page.getByLabel("Authentication code"), { backwards: true });
  const second = await freshCode(secret, first.step);
  await page.keyboard.type(second.code);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();

  // Disable: the code field has the focus, the outcome then has it, Escape returns to the profile button.
  dialog = await openMySettingsByKeyboard(page, user);
  await tabTo(page, dialog.getByRole("button", { name: "Disable" }));
  await page.keyboard.press("Enter");
  await expect(dialog.getByLabel("Authentication code")).toBeFocused();
  const third = await freshCode(secret, second.step);
  await page.keyboard.type(third.code);
  await page.keyboard.press("Enter");
  await expect(dialog.getByRole("button", { name: "Enable" })).toBeVisible();
  await expect(focused(page)).toHaveAttribute("role", "status");
  await page.keyboard.press("Escape");
  await expect(profileButton(page, user)).toBeFocused();
});

test("My Settings: Tab stays inside, Escape and Close give focus back to the profile button", async ({ page, browser, baseURL }) => {
  const user = await addUser(browser, baseURL!, newUser("Trap"));
  await page.goto("/login");
  await signInByKeyboard(page, user);
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();

  let dialog = await openMySettingsByKeyboard(page, user);
  await expect(dialog.getByRole("region", { name: "Security activity" }).getByText("Signed in").first()).toBeVisible();
  await expectFocusTrapped(page, dialog);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(profileButton(page, user)).toBeFocused();

  dialog = await openMySettingsByKeyboard(page, user);
  await tabTo(page, dialog.getByRole("button", { name: "Close" }));
  await page.keyboard.press("Enter");
  await expect(dialog).toBeHidden();
  await expect(profileButton(page, user)).toBeFocused();

  // A view inside the dialog: Cancel comes back to the button that opened it.
  dialog = await openMySettingsByKeyboard(page, user);
  await tabTo(page, dialog.getByRole("button", { name: "Change password" }));
  await page.keyboard.press("Enter");
  await expect(dialog.getByRole("heading", { name: "Change password" })).toBeFocused();
  await expectFocusTrapped(page, dialog);
  await tabTo(page, dialog.getByRole("button", { name: "Cancel" }));
  await page.keyboard.press("Enter");
  await expect(dialog.getByRole("button", { name: "Change password" })).toBeFocused();
});

test("Add user and User properties: Tab stays inside, focus goes back to Add user and to the row's Actions", async ({ page }) => {
  await page.goto("/login");
  await signInByKeyboard(page, ADMIN);
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
  await page.goto(`/admin/users?query=${encodeURIComponent(ADMIN.email)}`);

  const addButton = page.getByRole("button", { name: "Add user" });
  const addDialog = page.getByRole("dialog", { name: "Add user" });
  await tabTo(page, addButton);
  await page.keyboard.press("Enter");
  await expect(addDialog).toBeVisible();
  await expectFocusTrapped(page, addDialog);
  await page.keyboard.press("Escape");
  await expect(addDialog).toBeHidden();
  await expect(addButton).toBeFocused();
  for (const name of ["Close", "Cancel"]) {
    await page.keyboard.press("Enter");
    await expect(addDialog).toBeVisible();
    await tabTo(page, addDialog.getByRole("button", { name }));
    await page.keyboard.press("Enter");
    await expect(addDialog).toBeHidden();
    await expect(addButton).toBeFocused();
  }

  // The menu item that opened User properties closed with its menu: focus returns to the row's Actions button.
  const actions = page.getByRole("row", { name: new RegExp(ADMIN.email) }).getByRole("button", { name: "Actions" });
  const properties = page.getByRole("dialog", { name: "User properties" });
  await tabTo(page, actions);
  for (const how of ["Escape", "Cancel"]) {
    await page.keyboard.press("Enter");
    await expect(page.getByRole("menuitem", { name: "Edit" })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(properties.getByLabel("Two factor authentication enabled")).toBeVisible();
    if (how === "Escape") {
      await expectFocusTrapped(page, properties);
      await page.keyboard.press("Escape");
    } else {
      await tabTo(page, properties.getByRole("button", { name: "Cancel" }));
      await page.keyboard.press("Enter");
    }
    await expect(properties).toBeHidden();
    await expect(actions).toBeFocused();
  }
});
