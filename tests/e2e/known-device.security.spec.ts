import { expect, test } from "@playwright/test";
import { addUser, newUser, signIn, signOut } from "./fixtures/app";

test("a stranger's 100 wrong passwords do not lock out the owner's known browser", async ({ page, browser, baseURL, request }) => {
  const owner = await addUser(browser, baseURL!, newUser("Owner"));
  await signIn(page, owner);
  // Proving the password made this browser known: a signed cookie, for the password step only.
  const cookie = (await page.context().cookies()).find((c) => c.name === "known-device");
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/login" });
  await signOut(page);

  // The stranger, from a browser of their own (no cookies), guesses the owner's password 100 times.
  const post = (password: string) =>
    request.post("/login/password", {
      headers: { "content-type": "application/json", origin: new URL(baseURL!).origin },
      data: JSON.stringify({ email: owner.email, password }),
    });
  for (let i = 0; i < 100; i++) expect(await (await post(`guess-${i}`)).json()).toMatchObject({ status: "error", step: "password" });
  // The account is locked for the stranger: even the right password gets the one generic answer …
  expect(await (await post(owner.password)).json()).toMatchObject({ status: "error", message: "Incorrect email or password." });
  // … while the owner's browser signs in as usual.
  await signIn(page, owner);
});
