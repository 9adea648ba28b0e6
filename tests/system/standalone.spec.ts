import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { callServerAction, serverActionIds } from "../e2e/fixtures/server-actions";
import { awayFromStepEnd, enroll, newClient, signIn, totp, type Client } from "./support/client";
import { freePort } from "./support/free-port";
import { cli, createPostgresDatabase, startServer, STANDALONE_SERVER, type Server } from "./support/server";

/**
 * docs/DEPLOY.md, proven: the standalone server (`output: "standalone"`, what
 * a container host runs) as two instances on one PostgreSQL, with nothing in
 * front of them but their ports and nothing shared but the database and the
 * environment. A user starts signing in on one and carries on on the other.
 */
const ADMIN = { email: "admin@example.com", password: "saffron piano glacier 3" };

// A hosted deployment runs on PostgreSQL: this needs DATABASE_URL (CI sets it), like two-instances.security.spec.ts.
if (process.env.DATABASE_URL) test.describe("deployment: two standalone instances on one PostgreSQL", () => {
  test.describe.configure({ mode: "serial", timeout: 120_000 });
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let a: Server;
  let b: Server;
  const clients: Client[] = [];

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    expect(existsSync(STANDALONE_SERVER), "npm test builds with NEXT_OUTPUT=standalone (see package.json)").toBe(true);
    // The deploy step of docs/DEPLOY.md: the standalone folder does not include the static assets.
    cpSync(path.resolve(".next/static"), path.resolve(".next/standalone/.next/static"), { recursive: true });
    database = await createPostgresDatabase();
    const storage = { databaseUrl: database.databaseUrl };
    cli(storage, "create-user", "--email", ADMIN.email, "--password", ADMIN.password, "--admin");
    [a, b] = await Promise.all([freePort(), freePort()].map(async (port) => startServer(await port, storage, {}, "standalone")));
  });

  test.afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await Promise.all([a, b].filter(Boolean).map((s) => s.stop()));
    await database?.drop();
  });

  async function client(on: Server): Promise<Client> {
    const c = await newClient(on.url);
    clients.push(c);
    return c;
  }

  test("a user signs in with a code across both instances, uses the session on each, and signs out everywhere from the other", async () => {
    const setup = await client(a);
    await signIn(setup, ADMIN.email, ADMIN.password);
    const { secret } = await enroll(setup);

    // One cookie jar, two instances: cookies for localhost go to every port, as they would to one host name.
    const browser = await client(a);
    const post = (server: Server, step: string, data: object) =>
      browser.post(`${server.url}/login/${step}`, { data, headers: { origin: server.url }, maxRedirects: 0 });
    const password = await post(a, "password", { email: ADMIN.email, password: ADMIN.password });
    expect(await password.json()).toMatchObject({ status: "idle", step: "code" });
    await awayFromStepEnd();
    const code = await post(b, "code", { method: "totp", code: totp(secret) });
    expect(await code.json(), "the challenge opened on A is honoured on B").toEqual({ status: "signed-in", to: "/" });

    for (const server of [a, b]) {
      const home = await browser.get(`${server.url}/`, { maxRedirects: 0 });
      expect(home.status(), `home on ${server.url}`).toBe(200);
      expect(await home.text()).toContain("Welcome");
      expect(await (await browser.get(`${server.url}/_next/static/chunks/${firstChunk()}`)).status(), "static assets are served").toBe(200);
    }

    // A server action on B ends the session everywhere: A refuses the same cookie at once.
    const signOut = await callServerAction(browser, serverActionIds().get("signOutEverywhereAction")!, {}, {}, `${b.url}/`);
    expect(signOut.status).toBeLessThan(400);
    const after = await browser.get(`${a.url}/api/auth/session`);
    expect(await after.json(), "A sees the sign-out done on B").toBeNull();
  });

  test("the standalone build ships no database and no secrets (a container image would carry them)", () => {
    // The build once traced ./**/pglite folders (test servers' databases) into it, through a dynamic path.
    const shipped = (readdirSync(path.resolve(".next/standalone"), { recursive: true }) as string[]).filter(
      (file) => !file.startsWith("node_modules") && /(^|\/)(pglite|pglite\.lock|secrets\.json|test-results|data)(\/|$)/.test(file),
    );
    expect(shipped).toEqual([]);
  });

  test("GET /api/health answers 200 while the database is reachable and 503 when it is not, saying nothing more", async () => {
    const probe = await client(a);
    for (const server of [a, b]) {
      const healthy = await probe.get(`${server.url}/api/health`);
      expect(healthy.status()).toBe(200);
      expect(await healthy.json()).toEqual({ status: "ok", database: "reachable" });
    }
    await database.drop(); // the instances stay up; their database is gone
    const down = await probe.get(`${b.url}/api/health`, { timeout: 15_000 });
    expect(down.status()).toBe(503);
    expect(await down.json()).toEqual({ status: "unavailable", database: "unreachable" });
    expect((await probe.get(`${b.url}/api/health/live`)).status(), "liveness does not depend on the database").toBe(204);
  });

  test("a wrong environment stops the start with one message naming every problem", async () => {
    const port = await freePort();
    const bad = { DATABASE_URL: "mysql://db.example/app", AUTH_SECRET: "short", TOTP_ENCRYPTION_KEY: "bm90IDMyIGJ5dGVz", PORT: String(port) };
    const error = await startServer(port, { databaseUrl: bad.DATABASE_URL }, bad, "standalone").then(
      (server) => server.stop().then(() => "it started"),
      (failure: Error) => failure.message,
    );
    expect(error).toContain("the environment is not valid");
    expect(error).toContain("DATABASE_URL must be a PostgreSQL URL");
    expect(error).toContain("AUTH_SECRET must be at least 32 characters");
    expect(error).toContain("TOTP_ENCRYPTION_KEY must be base64 of exactly 32 bytes");
  });
});

function firstChunk(): string {
  const manifest = JSON.parse(readFileSync(path.resolve(".next/build-manifest.json"), "utf8")) as { rootMainFiles: string[] };
  return manifest.rootMainFiles[0].replace(/^static\/chunks\//, "");
}
