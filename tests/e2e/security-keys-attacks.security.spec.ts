import type { APIRequestContext, Browser, BrowserContext, Page } from "@playwright/test";
import { expect, test } from "./fixtures/test";
import { addUser, enrollTwoFactor, freshCode, newUser, openMySettings, signIn, signOut, type Enrolled, type TestUser } from "./fixtures/app";
import { addVirtualKey, type VirtualKey } from "./fixtures/authenticator";
import { callServerAction, serverActionIds } from "./fixtures/server-actions";
import { copySessionCookie } from "./fixtures/sessions";

/**
 * Red team (redteam-keys), over HTTP: what a password holder, a session thief
 * or another signed-in user can send to the security-key endpoints — the
 * /login/code route with method security_key, Auth.js's credentials callback,
 * the securityKeyOptionsAction prompt and the My Settings key actions, by
 * their real action ids. Assertions are made by Chromium's virtual
 * authenticator (a real signature), over whatever challenge the attacker
 * chooses (navigator.credentials.get() on a localhost page).
 */

const ids = serverActionIds();
const action = (name: string) => {
  const id = ids.get(name);
  expect(id, `the action id of ${name} is in the client bundles`).toBeTruthy();
  return id!;
};

/** The value a server action returned, out of its RSC answer (the line that is not the header). */
function actionResult(body: string): Record<string, unknown> | null {
  for (const line of body.split("\n")) {
    const match = /^[0-9a-f]+:(\{.*\})$/.exec(line);
    if (!match) continue;
    try {
      const value = JSON.parse(match[1]) as Record<string, unknown>;
      if ("ok" in value || "status" in value) return value;
    } catch {
      // not JSON
    }
  }
  return null;
}

async function hasSession(request: APIRequestContext): Promise<boolean> {
  return (await (await request.get("/api/auth/session")).json()) !== null;
}

/** The password step as the login page sends it; the challenge cookie lands in `request`'s jar. */
async function passwordStep(request: APIRequestContext, baseURL: string, user: TestUser): Promise<string> {
  const response = await request.post("/login/password", { data: { email: user.email, password: user.password, callbackUrl: "/" }, headers: { origin: baseURL } });
  expect(response.status()).toBe(200);
  const answer = await response.json();
  expect(answer).toMatchObject({ status: "idle", step: "code" });
  const cookie = (await request.storageState()).cookies.find((c) => c.name === "signin-challenge");
  expect(cookie).toBeTruthy();
  return cookie!.value;
}

type KeyOptions = { challenge: string; allowCredentials?: { id: string }[] };

/** Use security key: securityKeyOptionsAction, by its id, with the cookies of `request`. */
async function keyOptions(request: APIRequestContext, baseURL: string, headers: Record<string, string> = {}) {
  const answer = await callServerAction(request, action("securityKeyOptionsAction"), {}, { origin: baseURL, ...headers }, "/login");
  expect(answer.status).toBeLessThan(500);
  return actionResult(answer.body) as { ok: boolean; error?: string; options?: KeyOptions } | null;
}

/** navigator.credentials.get() on a localhost page of `page` (its virtual key answers), over any challenge. */
async function sign(page: Page, challenge: string, allow: string[]): Promise<string> {
  return page.evaluate(
    async ({ challenge, allow }) => {
      const options = PublicKeyCredential.parseRequestOptionsFromJSON({
        challenge,
        rpId: "localhost",
        allowCredentials: allow.map((id) => ({ id, type: "public-key" })),
        userVerification: "discouraged",
        timeout: 10_000,
      });
      const credential = (await navigator.credentials.get({ publicKey: options })) as PublicKeyCredential;
      return JSON.stringify(credential.toJSON());
    },
    { challenge, allow },
  );
}

/** POST /login/code with a key's answer, as the login page sends it. */
async function postAssertion(request: APIRequestContext, baseURL: string, assertion: unknown, trust = false) {
  const response = await request.post("/login/code", {
    data: { step: "code", method: "security_key", assertion, trust: trust ? "on" : "", callbackUrl: "/" },
    headers: { origin: baseURL },
  });
  const text = await response.text();
  let answer: { status?: string; message?: string } = {};
  try {
    answer = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status(), answer };
}

/** My Settings → Security keys → Add security key, through the UI (after a code). */
async function addKeyInUi(page: Page, enrolled: Enrolled, name: string): Promise<void> {
  const dialog = await openMySettings(page);
  const keys = dialog.getByRole("region", { name: "Security keys" });
  await keys.getByRole("button", { name: "Add security key" }).click();
  const { code, step } = await freshCode(enrolled.secret, enrolled.lastStep);
  enrolled.lastStep = step;
  await keys.getByLabel("Authentication code").fill(code);
  await keys.getByRole("button", { name: "Confirm" }).click();
  await keys.getByLabel("Name").fill(name);
  await keys.getByRole("button", { name: "Save" }).click();
  await expect(keys.getByText("Security key added.")).toBeVisible();
  await dialog.getByRole("button", { name: "Close" }).click();
}

type KeyOwner = { user: TestUser; enrolled: Enrolled; context: BrowserContext; page: Page; key: VirtualKey; credentialId: string };

/** A user with TOTP and one security key (a virtual key in a browser of their own), signed out, the page on /login. */
async function keyOwner(browser: Browser, baseURL: string, prefix: string, resident = false): Promise<KeyOwner> {
  const user = await addUser(browser, baseURL, newUser(prefix));
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const key = await addVirtualKey(page, resident ? { hasResidentKey: true, transport: "internal", hasUserVerification: true, isUserVerified: true } : {});
  await signIn(page, user);
  const enrolled = await enrollTwoFactor(page);
  await addKeyInUi(page, enrolled, `${prefix} key`);
  await signOut(page);
  const [credential] = await key.credentials();
  return { user, enrolled, context, page, key, credentialId: Buffer.from(credential.credentialId, "base64").toString("base64url") };
}

test("an assertion replayed: the same /login/code request 10 times in parallel, then at a new sign-in in another browser: one session", async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const owner = await keyOwner(browser, baseURL!, "Replay");
  await passwordStep(owner.page.request, baseURL!, owner.user);
  const prompt = await keyOptions(owner.page.request, baseURL!);
  expect(prompt?.ok).toBe(true);
  const assertion = await sign(owner.page, prompt!.options!.challenge, [owner.credentialId]);

  const burst = await Promise.all(Array.from({ length: 10 }, () => postAssertion(owner.page.request, baseURL!, assertion)));
  for (const answer of burst) expect(answer.status).toBeLessThan(500);
  expect(burst.filter((b) => b.answer.status === "signed-in")).toHaveLength(1);

  const attacker = await browser.newContext({ baseURL });
  await passwordStep(attacker.request, baseURL!, owner.user);
  expect((await keyOptions(attacker.request, baseURL!))?.ok).toBe(true);
  const replayed = await postAssertion(attacker.request, baseURL!, assertion);
  expect(replayed.status).toBeLessThan(500);
  expect(replayed.answer.status).not.toBe("signed-in");
  expect(await hasSession(attacker.request)).toBe(false);
  await attacker.close();
  await owner.context.close();
});

test("user B's own key signs user A's challenge at A's second step (B knows A's password): refused, no session", async ({ browser, baseURL }) => {
  test.setTimeout(240_000);
  const victim = await keyOwner(browser, baseURL!, "Victim");
  const attacker = await keyOwner(browser, baseURL!, "Mallory", true);
  await passwordStep(attacker.page.request, baseURL!, victim.user);
  const prompt = await keyOptions(attacker.page.request, baseURL!);
  expect(prompt?.options?.allowCredentials?.map((c) => c.id)).toEqual([victim.credentialId]);
  // The attacker's authenticator over the victim's challenge: named by its own id, and discoverable (no allow list).
  for (const allow of [[attacker.credentialId], []]) {
    const forged = await sign(attacker.page, prompt!.options!.challenge, allow);
    const answer = await postAssertion(attacker.page.request, baseURL!, forged);
    expect(answer.status).toBeLessThan(500);
    expect(answer.answer.status).not.toBe("signed-in");
    expect(await hasSession(attacker.page.request)).toBe(false);
    // A fresh prompt of the same sign-in for the second try (the first challenge was claimed).
    const again = await keyOptions(attacker.page.request, baseURL!);
    if (again?.ok) prompt!.options = again.options;
    else break;
  }
  await attacker.context.close();
  await victim.context.close();
});

test("a WebAuthn challenge of another browser's sign-in, and a registration challenge, signed by the owner's key and sent at a password holder's sign-in: refused", async ({ browser, baseURL }) => {
  test.setTimeout(240_000);
  const owner = await keyOwner(browser, baseURL!, "Bound");
  // The owner signs in in their own browser and opens My Settings → Add security key (a registration challenge).
  await passwordStep(owner.page.request, baseURL!, owner.user);
  const ownerPrompt = await keyOptions(owner.page.request, baseURL!);
  const signInOfOwner = await sign(owner.page, ownerPrompt!.options!.challenge, [owner.credentialId]);

  // The password holder's own sign-in, in another browser; they obtained the owner's signatures (a phishing relay).
  const attacker = await browser.newContext({ baseURL });
  await passwordStep(attacker.request, baseURL!, owner.user);
  expect((await keyOptions(attacker.request, baseURL!))?.ok).toBe(true);
  const crossSignIn = await postAssertion(attacker.request, baseURL!, signInOfOwner);
  expect(crossSignIn.status).toBeLessThan(500);
  expect(crossSignIn.answer.status).not.toBe("signed-in");
  expect(await hasSession(attacker.request)).toBe(false);

  // The owner, signed in with the key after all, confirms with a code and asks for a registration prompt.
  let ownerAnswer = await postAssertion(owner.page.request, baseURL!, signInOfOwner);
  if (ownerAnswer.answer.status !== "signed-in") {
    const again = await keyOptions(owner.page.request, baseURL!);
    ownerAnswer = await postAssertion(owner.page.request, baseURL!, await sign(owner.page, again!.options!.challenge, [owner.credentialId]));
  }
  expect(ownerAnswer.answer.status).toBe("signed-in");
  const { code, step } = await freshCode(owner.enrolled.secret, owner.enrolled.lastStep);
  owner.enrolled.lastStep = step;
  const confirm = await callServerAction(owner.page.request, action("confirmOwnChangeAction"), { before: ["$undefined"], form: { secret: code } }, { origin: baseURL! });
  expect(actionResult(confirm.body)).toMatchObject({ status: "success" });
  const start = actionResult((await callServerAction(owner.page.request, action("startAddingKeyAction"), {}, { origin: baseURL! })).body) as {
    status: string;
    options?: { challenge: string };
  };
  expect(start.status).toBe("ready");
  const overRegistration = await sign(owner.page, start.options!.challenge, [owner.credentialId]);
  await passwordStep(attacker.request, baseURL!, owner.user);
  expect((await keyOptions(attacker.request, baseURL!))?.ok).toBe(true);
  const crossPurpose = await postAssertion(attacker.request, baseURL!, overRegistration);
  expect(crossPurpose.status).toBeLessThan(500);
  expect(crossPurpose.answer.status).not.toBe("signed-in");
  expect(await hasSession(attacker.request)).toBe(false);
  await attacker.close();
  await owner.context.close();
});

test("Use security key's options asked with no challenge cookie, a forged one, a spent one, and from a page outside /login: refused, never a 500", async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const owner = await keyOwner(browser, baseURL!, "Options");
  const stranger = await browser.newContext({ baseURL });
  expect(await keyOptions(stranger.request, baseURL!)).toEqual({ ok: false, error: "challenge_expired" });
  expect(await keyOptions(stranger.request, baseURL!, { cookie: `signin-challenge=${"A".repeat(43)}` })).toEqual({ ok: false, error: "challenge_expired" });
  expect(await keyOptions(stranger.request, baseURL!, { cookie: `signin-challenge=${"x".repeat(4000)}` })).toEqual({ ok: false, error: "challenge_expired" });

  const challenge = await passwordStep(owner.page.request, baseURL!, owner.user);
  const prompt = await keyOptions(owner.page.request, baseURL!);
  expect((await postAssertion(owner.page.request, baseURL!, await sign(owner.page, prompt!.options!.challenge, [owner.credentialId]))).answer.status).toBe("signed-in");
  // The spent sign-in's token, replayed from another browser.
  expect(await keyOptions(stranger.request, baseURL!, { cookie: `signin-challenge=${challenge}` })).toEqual({ ok: false, error: "challenge_expired" });
  await stranger.close();
  await owner.context.close();
});

test("huge and malformed assertions at /login/code and at the credentials callback: a clear refusal, never a 500, no session", async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const owner = await keyOwner(browser, baseURL!, "Malformed");
  const attacker = await browser.newContext({ baseURL });
  const bodies: unknown[] = [
    "",
    "{",
    "null",
    "[]",
    '"a string"',
    JSON.stringify({ id: "A".repeat(6000), rawId: "A", type: "public-key", response: {} }),
    JSON.stringify({ id: owner.credentialId, rawId: owner.credentialId, type: "public-key", response: { clientDataJSON: "!!!", authenticatorData: 7, signature: null } }),
    JSON.stringify({ id: owner.credentialId, response: { clientDataJSON: Buffer.from('{"type":"webauthn.get","challenge":{"$ne":1}}').toString("base64url") } }),
    { not: "a string" },
    12345,
  ];
  await passwordStep(attacker.request, baseURL!, owner.user);
  for (const body of bodies) {
    expect((await keyOptions(attacker.request, baseURL!))?.ok ?? false, "a prompt for each try (the sign-in is still live)").toBeTruthy();
    const answer = await postAssertion(attacker.request, baseURL!, body);
    expect(answer.status, `POST /login/code with ${String(body).slice(0, 40)}`).toBeLessThan(500);
    expect(answer.answer.status).toBe("error");
    expect(answer.answer.message).toBeTruthy();
    expect(await hasSession(attacker.request)).toBe(false);
    if ((await attacker.cookies()).every((c) => c.name !== "signin-challenge")) await passwordStep(attacker.request, baseURL!, owner.user);
  }
  // The callback directly: a 40 KB assertion and a JSON bomb-ish nest, with Auth.js's own CSRF token.
  for (const assertion of ["x".repeat(40_000), "[".repeat(5000) + "]".repeat(5000)]) {
    const challenge = await passwordStep(attacker.request, baseURL!, owner.user);
    const { csrfToken } = await (await attacker.request.get("/api/auth/csrf")).json();
    const response = await attacker.request.post("/api/auth/callback/credentials", {
      form: { csrfToken, callbackUrl: baseURL!, challenge, method: "security_key", code: "", assertion, trust: "on" },
      headers: { origin: baseURL! },
      maxRedirects: 0,
    });
    expect(response.status()).toBeLessThan(500);
    expect(await hasSession(attacker.request)).toBe(false);
    expect((await attacker.cookies()).some((c) => c.name === "trusted-browser")).toBe(false);
  }
  await attacker.close();
  await owner.context.close();
});

test("My Settings key actions with no session, or with only the password step done (a pending challenge cookie): not allowed, nothing changed", async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const owner = await keyOwner(browser, baseURL!, "Pending");
  const pending = await browser.newContext({ baseURL });
  await passwordStep(pending.request, baseURL!, owner.user);
  const nobody = await browser.newContext({ baseURL });
  const answer = JSON.stringify({ id: "AAAA", rawId: "AAAA", type: "public-key", response: { clientDataJSON: "AAAA", attestationObject: "AAAA" } });
  for (const context of [nobody, pending]) {
    for (const path of ["/", "/login"]) {
      const calls = [
        callServerAction(context.request, action("startAddingKeyAction"), {}, { origin: baseURL! }, path),
        callServerAction(context.request, action("addSecurityKeyAction"), { before: [answer, "Mallory"] }, { origin: baseURL! }, path),
        callServerAction(context.request, action("renameSecurityKeyAction"), { before: ["00000000-0000-4000-8000-000000000000", "Mallory"] }, { origin: baseURL! }, path),
        callServerAction(context.request, action("removeSecurityKeyAction"), { before: ["00000000-0000-4000-8000-000000000000"] }, { origin: baseURL! }, path),
        callServerAction(context.request, action("confirmOwnChangeAction"), { before: ["$undefined"], form: { secret: "123456" } }, { origin: baseURL! }, path),
      ];
      for (const call of await Promise.all(calls)) {
        expect(call.status).toBeLessThan(500);
        expect(call.body).not.toContain('"ready"');
        expect(call.body).not.toContain('"success"');
      }
      expect(await hasSession(context.request)).toBe(false);
    }
  }
  // The owner's key is still the only one, with its name.
  await owner.page.goto("/login");
  await passwordStep(owner.page.request, baseURL!, owner.user);
  const prompt = await keyOptions(owner.page.request, baseURL!);
  expect(prompt?.options?.allowCredentials?.map((c) => c.id)).toEqual([owner.credentialId]);
  await pending.close();
  await nobody.close();
  await owner.context.close();
});

test("a fresh sign-in with a code is not a confirmation, and one session's confirmation does not let the owner's other session add a key", async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const owner = await keyOwner(browser, baseURL!, "Confirm");
  // Session 1: signed in with a code just now.
  await passwordStep(owner.page.request, baseURL!, owner.user);
  let fresh = await freshCode(owner.enrolled.secret, owner.enrolled.lastStep);
  owner.enrolled.lastStep = fresh.step;
  expect((await owner.page.request.post("/login/code", { data: { step: "code", method: "totp", code: fresh.code, callbackUrl: "/" }, headers: { origin: baseURL! } })).ok()).toBe(true);
  expect(await hasSession(owner.page.request)).toBe(true);
  const start = () => callServerAction(owner.page.request, action("startAddingKeyAction"), {}, { origin: baseURL! });
  expect(actionResult((await start()).body)).toMatchObject({ status: "confirm" });

  // Session 2 of the same user (the password holder with a stolen code earlier, or the owner's other browser) confirms.
  const other = await browser.newContext({ baseURL });
  await passwordStep(other.request, baseURL!, owner.user);
  fresh = await freshCode(owner.enrolled.secret, owner.enrolled.lastStep);
  owner.enrolled.lastStep = fresh.step;
  expect((await other.request.post("/login/code", { data: { step: "code", method: "totp", code: fresh.code, callbackUrl: "/" }, headers: { origin: baseURL! } })).ok()).toBe(true);
  fresh = await freshCode(owner.enrolled.secret, owner.enrolled.lastStep);
  owner.enrolled.lastStep = fresh.step;
  const confirmed = await callServerAction(other.request, action("confirmOwnChangeAction"), { before: ["$undefined"], form: { secret: fresh.code } }, { origin: baseURL! });
  expect(actionResult(confirmed.body)).toMatchObject({ status: "success" });
  expect(actionResult((await callServerAction(other.request, action("startAddingKeyAction"), {}, { origin: baseURL! })).body)).toMatchObject({ status: "ready" });
  // …and session 1 still has to confirm.
  expect(actionResult((await start()).body)).toMatchObject({ status: "confirm" });
  await other.close();
  await owner.context.close();
});

test("a copy of the session cookie finishes Add security key after the owner signed out (confirmation and prompt were the owner's): refused, no key", async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const owner = await keyOwner(browser, baseURL!, "SignedOut");
  await passwordStep(owner.page.request, baseURL!, owner.user);
  const fresh = await freshCode(owner.enrolled.secret, owner.enrolled.lastStep);
  owner.enrolled.lastStep = fresh.step;
  expect((await owner.page.request.post("/login/code", { data: { step: "code", method: "totp", code: fresh.code, callbackUrl: "/" }, headers: { origin: baseURL! } })).ok()).toBe(true);
  const confirmCode = await freshCode(owner.enrolled.secret, owner.enrolled.lastStep);
  owner.enrolled.lastStep = confirmCode.step;
  expect(actionResult((await callServerAction(owner.page.request, action("confirmOwnChangeAction"), { before: ["$undefined"], form: { secret: confirmCode.code } }, { origin: baseURL! })).body)).toMatchObject({ status: "success" });
  const start = actionResult((await callServerAction(owner.page.request, action("startAddingKeyAction"), {}, { origin: baseURL! })).body) as { status: string; options?: unknown };
  expect(start.status).toBe("ready");

  const cookie = await copySessionCookie(owner.context);
  // The thief's own authenticator answers the owner's prompt.
  const thief = await browser.newContext({ baseURL });
  const thiefPage = await thief.newPage();
  await addVirtualKey(thiefPage);
  await thiefPage.goto("/login");
  const answer = await thiefPage.evaluate(async (options) => {
    const credential = (await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options as never) })) as PublicKeyCredential;
    return JSON.stringify(credential.toJSON());
  }, start.options);

  // Control: until the owner signs out, the copy is the owner's session (it lists the owner's key).
  const listed = await callServerAction(thief.request, action("loadSecurityKeysAction"), {}, { origin: baseURL!, cookie });
  expect(listed.body).toContain("SignedOut key");
  // The owner signs out: the session row goes, copies of the cookie with it.
  await owner.page.goto("/");
  await signOut(owner.page);
  const added = await callServerAction(thief.request, action("addSecurityKeyAction"), { before: [answer, "Thief"] }, { origin: baseURL!, cookie });
  expect(added.status).toBeLessThan(500);
  expect(added.body).not.toContain("Security key added");
  // Still one key: the owner's next sign-in offers only theirs.
  await passwordStep(owner.page.request, baseURL!, owner.user);
  const prompt = await keyOptions(owner.page.request, baseURL!);
  expect(prompt?.options?.allowCredentials?.map((c) => c.id)).toEqual([owner.credentialId]);
  await thief.close();
  await owner.context.close();
});

test("another signed-in user renames and removes the victim's key by its id (after confirming on their own session): refused, the key unchanged", async ({ browser, baseURL }) => {
  test.setTimeout(240_000);
  const victim = await keyOwner(browser, baseURL!, "KeyVictim");
  const insider = await keyOwner(browser, baseURL!, "Insider");
  // The victim's key id, as the victim's own My Settings lists it (leaked: a screenshot, a shared log).
  await passwordStep(victim.page.request, baseURL!, victim.user);
  const prompt = await keyOptions(victim.page.request, baseURL!);
  expect((await postAssertion(victim.page.request, baseURL!, await sign(victim.page, prompt!.options!.challenge, [victim.credentialId]))).answer.status).toBe("signed-in");
  const listed = await callServerAction(victim.page.request, action("loadSecurityKeysAction"), {}, { origin: baseURL! });
  const keyId = /"id":"([0-9a-f-]{36})"/.exec(listed.body)?.[1];
  expect(keyId, "the victim's key id").toBeTruthy();

  await passwordStep(insider.page.request, baseURL!, insider.user);
  const own = await keyOptions(insider.page.request, baseURL!);
  expect((await postAssertion(insider.page.request, baseURL!, await sign(insider.page, own!.options!.challenge, [insider.credentialId]))).answer.status).toBe("signed-in");
  const code = await freshCode(insider.enrolled.secret, insider.enrolled.lastStep);
  expect(actionResult((await callServerAction(insider.page.request, action("confirmOwnChangeAction"), { before: ["$undefined"], form: { secret: code.code } }, { origin: baseURL! })).body)).toMatchObject({ status: "success" });
  const renamed = await callServerAction(insider.page.request, action("renameSecurityKeyAction"), { before: [keyId, "pwned"] }, { origin: baseURL! });
  const removed = await callServerAction(insider.page.request, action("removeSecurityKeyAction"), { before: [keyId] }, { origin: baseURL! });
  for (const call of [renamed, removed]) {
    expect(call.status).toBeLessThan(500);
    expect(actionResult(call.body)).toMatchObject({ status: "error" });
  }
  const after = await callServerAction(victim.page.request, action("loadSecurityKeysAction"), {}, { origin: baseURL! });
  expect(after.body).toContain(keyId!);
  expect(after.body).toContain("KeyVictim key");
  expect(after.body).not.toContain("pwned");
  await insider.context.close();
  await victim.context.close();
});

test("a cloned device-bound key (its private key and counter copied into the attacker's authenticator), used after the owner's own sign-in: refused", async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const owner = await keyOwner(browser, baseURL!, "Cloned");
  const [original] = await owner.key.session.send("WebAuthn.getCredentials", { authenticatorId: owner.key.authenticatorId }).then((r) => r.credentials);
  // The owner signs in (the counter moves on), the clone still holds the counter it was copied with.
  await passwordStep(owner.page.request, baseURL!, owner.user);
  const prompt = await keyOptions(owner.page.request, baseURL!);
  expect((await postAssertion(owner.page.request, baseURL!, await sign(owner.page, prompt!.options!.challenge, [owner.credentialId]))).answer.status).toBe("signed-in");

  const attacker = await browser.newContext({ baseURL });
  const page = await attacker.newPage();
  const clone = await addVirtualKey(page);
  await clone.session.send("WebAuthn.addCredential", { authenticatorId: clone.authenticatorId, credential: { ...original, signCount: original.signCount } });
  await page.goto("/login");
  await passwordStep(page.request, baseURL!, owner.user);
  const attackerPrompt = await keyOptions(page.request, baseURL!);
  const cloned = await sign(page, attackerPrompt!.options!.challenge, [owner.credentialId]);
  const answer = await postAssertion(page.request, baseURL!, cloned);
  expect(answer.status).toBeLessThan(500);
  expect(answer.answer.status).not.toBe("signed-in");
  expect(await hasSession(page.request)).toBe(false);
  // Control: the clone's signatures are good — moved past the stored counter, it signs in (a counter can only
  // tell a clone once the original has moved past it).
  await clone.session.send("WebAuthn.clearCredentials", { authenticatorId: clone.authenticatorId });
  await clone.session.send("WebAuthn.addCredential", { authenticatorId: clone.authenticatorId, credential: { ...original, signCount: original.signCount + 100 } });
  if (!(await page.request.storageState()).cookies.some((c) => c.name === "signin-challenge")) await passwordStep(page.request, baseURL!, owner.user);
  const next = await keyOptions(page.request, baseURL!);
  expect((await postAssertion(page.request, baseURL!, await sign(page, next!.options!.challenge, [owner.credentialId]))).answer.status).toBe("signed-in");
  await attacker.close();
  await owner.context.close();
});
