import type { Locator, Page } from "@playwright/test";
import { expect, test } from "./fixtures/test";
import { addUser, enrollTwoFactor, freshCode, newUser, openMySettings, signIn, signOut, submitPassword, wrongCode } from "./fixtures/app";

/** Pastes `text` into `field` the way a browser does: a paste event carrying a DataTransfer. */
async function dispatchPaste(field: Locator, text: string): Promise<void> {
  await field.evaluate((input, pasted) => {
    (input as HTMLInputElement).focus();
    const clipboardData = new DataTransfer();
    clipboardData.setData("text/plain", pasted);
    const event = new ClipboardEvent("paste", { clipboardData, bubbles: true, cancelable: true });
    // An untrusted paste event inserts nothing by itself: do what the browser would, unless the page took over.
    if (input.dispatchEvent(event)) (input as HTMLInputElement).setRangeText(pasted, 0, (input as HTMLInputElement).value.length, "end");
  }, text);
}

const grouped = (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`;

/** The field's error: an aria-live region present (and empty) before the error, then tied to the field. */
async function expectErrorAnnouncedAndTied(page: Page, field: Locator, submit: () => Promise<void>, message: string | RegExp) {
  await expect(field).not.toHaveAttribute("aria-invalid", "true");
  const errorId = `${await field.getAttribute("id")}-error`;
  const region = page.locator(`[id="${errorId}"]`);
  await expect(region).toHaveAttribute("aria-live", /polite|assertive/);
  await expect(region).toBeEmpty();
  // Marked now: the same element must carry the message, not one created with it.
  await region.evaluate((element) => element.setAttribute("data-before-error", ""));
  await submit();
  await expect(region).toHaveText(message);
  await expect(region).toHaveAttribute("data-before-error", "");
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(field).toHaveAttribute("aria-describedby", new RegExp(`(^| )${errorId}( |$)`));
}

test("Authentication code fields: numeric keyboard, one-time-code autofill, “123 456” pasted, errors announced and tied to the field", async ({ page, browser, baseURL, context }) => {
  test.setTimeout(150_000);
  const user = await addUser(browser, baseURL!, newUser("Paste"));
  await signIn(page, user);

  // Enrollment in My Settings: a real paste from the clipboard (Ctrl+V).
  const dialog = await openMySettings(page);
  await dialog.getByRole("button", { name: "Enable" }).click();
  const enrollField = dialog.getByLabel("Authentication code");
  await expect(enrollField).toHaveAttribute("inputmode", "numeric");
  await expect(enrollField).toHaveAttribute("autocomplete", "one-time-code");
  const secret = (await dialog.getByLabel("Setup key").innerText()).replace(/\s/g, "");
  await expectErrorAnnouncedAndTied(
    page,
    enrollField,
    async () => {
      await enrollField.fill(wrongCode(secret));
      await dialog.getByRole("button", { name: "Verify" }).click();
    },
    /That code is not valid/,
  );
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const first = await freshCode(secret);
  await page.evaluate((text) => navigator.clipboard.writeText(text), grouped(first.code));
  await enrollField.focus();
  await page.keyboard.press("ControlOrMeta+V");
  await expect(enrollField).toHaveValue(first.code);
  await page.keyboard.press("Enter");
  await expect(dialog.getByRole("button", { name: "Continue" })).toBeDisabled();
  const download = page.waitForEvent("download");
  await dialog.getByRole("button", { name: "Download" }).click();
  await download;
  await dialog.getByRole("button", { name: "Continue" }).click();
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog.getByRole("button", { name: "Disable" })).toBeVisible();
  // Once, under heavy load, a Close right after Done left the dialog open (not reproduced since; see the closing
  // note of issue 5): the check below says so plainly instead of timing out behind the modal.
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(dialog, "Close closes My Settings").toBeHidden();
  await signOut(page);

  // The code step at sign-in: a paste event with " 123 456" (leading space, grouped digits) verifies.
  await submitPassword(page, user.email, user.password);
  const codeField = page.getByLabel("Authentication code");
  await expect(codeField).toHaveAttribute("inputmode", "numeric");
  await expect(codeField).toHaveAttribute("autocomplete", "one-time-code");
  await expectErrorAnnouncedAndTied(
    page,
    codeField,
    async () => {
      await codeField.fill("12345");
      await page.getByRole("button", { name: "Verify" }).click();
    },
    "Enter the 6-digit code from your authenticator app.",
  );
  await expect(codeField).toHaveAttribute("aria-describedby", /-hint/);
  const second = await freshCode(secret, first.step);
  await dispatchPaste(codeField, ` ${grouped(second.code)}`);
  await expect(codeField).toHaveValue(second.code);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
});

test("the server accepts “123 456” as typed, spaces and all", async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000);
  const user = await addUser(browser, baseURL!, newUser("Spaces"));
  await signIn(page, user);
  const enrolled = await enrollTwoFactor(page);
  await signOut(page);
  await submitPassword(page, user.email, user.password);
  const { code } = await freshCode(enrolled.secret, enrolled.lastStep);
  await page.getByLabel("Authentication code").pressSequentially(grouped(code));
  await expect(page.getByLabel("Authentication code")).toHaveValue(grouped(code));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("heading", { name: /Welcome/ })).toBeVisible();
});
