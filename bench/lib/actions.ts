import { chromium } from "@playwright/test";
import { BENCH_PASSWORD } from "./config";
import { base32Decode, hotp, timeStep } from "./totp";

/** A server-action POST as React sent it, with placeholders where each request puts its own values. */
export type ActionTemplate = { path: string; headers: Record<string, string>; body: string };
export type SignInTemplates = { password: ActionTemplate; code: ActionTemplate };

const DROPPED = new Set(["host", "content-length", "cookie", "connection"]);
export const EMAIL = "%%EMAIL%%";
export const PASSWORD = "%%PASSWORD%%";
export const CODE = "%%CODE%%";

/**
 * Signs one user in through the real login page in Chromium and records the
 * two server-action requests React makes (action id, router-state header,
 * multipart body). The load generator replays exactly these, so the bench
 * follows whatever the app and React send today, with no hand-written guess.
 */
export async function captureSignIn(origin: string, user: { email: string; secret: string }): Promise<SignInTemplates> {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
  try {
    const page = await browser.newPage();
    const posts: { headers: Record<string, string>; body: string; path: string }[] = [];
    page.on("request", (request) => {
      if (request.method() !== "POST") return;
      void request.allHeaders().then((headers) => {
        posts.push({ headers, body: request.postData() ?? "", path: new URL(request.url()).pathname });
      });
    });
    await page.goto(`${origin}/login`);
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password").fill(BENCH_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    const codeField = page.getByLabel("Authentication code");
    await codeField.waitFor();
    const code = hotp(base32Decode(user.secret), timeStep());
    await codeField.fill(code);
    await codeField.press("Enter");
    await page.waitForURL(`${origin}/`);
    const [password, second] = posts;
    if (!password || !second) throw new Error(`expected two server-action posts, saw ${posts.length}`);
    return {
      password: template(password, [
        [user.email, EMAIL],
        [BENCH_PASSWORD, PASSWORD],
      ]),
      code: template(second, [[code, CODE]]),
    };
  } finally {
    await browser.close();
  }
}

function template(post: { headers: Record<string, string>; body: string; path: string }, replace: [string, string][]): ActionTemplate {
  const headers = Object.fromEntries(Object.entries(post.headers).filter(([name]) => !DROPPED.has(name) && !name.startsWith(":")));
  let body = post.body;
  for (const [value, placeholder] of replace) {
    if (!body.includes(value)) throw new Error(`captured body lacks ${placeholder}`);
    body = body.split(value).join(placeholder);
  }
  return { path: post.path, headers, body };
}

export function fill(template: ActionTemplate, values: Record<string, string>, cookie?: string) {
  let body = template.body;
  for (const [placeholder, value] of Object.entries(values)) body = body.split(placeholder).join(value);
  const headers = cookie ? { ...template.headers, cookie } : template.headers;
  return { method: "POST" as const, path: template.path, headers, body };
}

/** The same action sent to another server of the same build: Origin must match its host (CSRF check). */
export function retarget(template: ActionTemplate, origin: string): ActionTemplate {
  const headers: Record<string, string> = { ...template.headers, origin };
  if (headers.referer) headers.referer = origin + new URL(headers.referer).pathname;
  return { ...template, headers };
}

/** The value of a Set-Cookie cookie in undici/fetch headers, or null. */
export function setCookieValue(setCookie: string | string[] | undefined, name: string): string | null {
  for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
    const match = new RegExp(`(?:^|\\n)${name.replace(/\./g, "\\.")}=([^;]*)`).exec(line);
    if (match && match[1]) return match[1];
  }
  return null;
}
