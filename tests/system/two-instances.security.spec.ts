import { expect, test } from "@playwright/test";
import { cli, createPostgresDatabase, startServer, type Server } from "./support/server";
import {
  addUser,
  codeStep,
  enroll,
  newClient,
  passwordStep,
  sessionEmail,
  signIn,
  totp,
  uniqueUser,
  wrongCode,
  type Client,
  type Cookie,
} from "./support/client";

/**
 * Attacks on a deployment of several instances (Vercel-like): two `next start`
 * of the same build share one PostgreSQL database and nothing else. Whatever
 * one instance decides — a code used, a challenge consumed, a failure counted —
 * the other must see, or an attacker splits the work between them.
 */
const ADMIN = { email: "admin@example.com", password: "walnut signal ember 9" };
const LOCKED = "Too many incorrect codes. Try again later.";

if (process.env.DATABASE_URL) {
  test.describe("two instances on one PostgreSQL", () => {
    test.describe.configure({ mode: "serial", timeout: 120_000 });
    let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
    let instances: Server[] = [];
    let admin: Client;
    const clients: Client[] = [];

    test.beforeAll(async () => {
      test.setTimeout(120_000);
      database = await createPostgresDatabase();
      const storage = { databaseUrl: database.databaseUrl };
      cli(storage, "create-user", "--email", ADMIN.email, "--password", ADMIN.password, "--admin");
      // Pools smaller than the 25 requests each gets: requests queue for connections, as under real load.
      instances = await Promise.all([3200, 3201].map((port) => startServer(port, storage, { DATABASE_POOL_MAX: "5" })));
      admin = await newClient(instances[0].url);
      await signIn(admin, ADMIN.email, ADMIN.password);
    });

    test.afterAll(async () => {
      await Promise.all(clients.map((c) => c.dispose()));
      await admin?.dispose();
      await Promise.all(instances.map((s) => s.stop()));
      await database?.drop();
    });

    /** A client of its own on instance `i % 2`, starting with `cookies`. */
    async function clientOn(i: number, cookies: Cookie[] = []): Promise<Client> {
      const client = await newClient(instances[i % 2].url, { cookies });
      clients.push(client);
      return client;
    }

    /** A new user with 2FA enrolled (on instance 0); the code of the current step is still unused. */
    async function enrolledUser() {
      const user = uniqueUser("Racer");
      expect(await addUser(admin, user)).toBe(true);
      const client = await clientOn(0);
      await signIn(client, user.email, user.password);
      return { ...user, ...(await enroll(client)) };
    }

    test("racing one TOTP code across two instances: 50 parallel submissions, exactly one session", async () => {
      const user = await enrolledUser();
      const racers = await Promise.all(Array.from({ length: 50 }, (_, i) => clientOn(i)));
      // Each racer passes the password step on its own, then all send the same valid code at once.
      for (const reply of await Promise.all(racers.map((c) => passwordStep(c, user.email, user.password)))) {
        expect(reply.body).toContain('"step":"code"');
      }
      const code = totp(user.secret);
      const replies = await Promise.all(racers.map((c) => codeStep(c, code)));
      // Every request was answered (no 500): one redirect home, the others a refusal.
      expect(replies.map((r) => r.status).filter((status) => status >= 500)).toEqual([]);
      expect(replies.filter((r) => r.redirectedTo !== null)).toHaveLength(1);
      const sessions = (await Promise.all(racers.map(sessionEmail))).filter((email) => email === user.email);
      expect(sessions).toHaveLength(1);
    });

    test("one pending challenge raced across two instances is consumed once", async () => {
      const user = await enrolledUser();
      const first = await clientOn(0);
      expect((await passwordStep(first, user.email, user.password)).body).toContain('"step":"code"');
      const challenge = (await first.storageState()).cookies.find((c) => c.name === "signin-challenge");
      expect(challenge).toBeTruthy();
      // 50 clients replay that one challenge cookie, 25 on each instance, each with a *valid* second
      // factor: the current TOTP code, or one of the ten recovery codes (so that the single-use of the
      // code alone cannot be what stops them: eleven different factors are valid at once).
      const racers = await Promise.all(Array.from({ length: 50 }, (_, i) => clientOn(i, [challenge!])));
      const code = totp(user.secret);
      const replies = await Promise.all(
        racers.map((c, i) => (i < user.recoveryCodes.length * 2 ? codeStep(c, user.recoveryCodes[i >> 1], "recovery") : codeStep(c, code))),
      );
      expect(replies.map((r) => r.status).filter((status) => status >= 500)).toEqual([]);
      expect(replies.filter((r) => r.redirectedTo !== null)).toHaveLength(1);
      const sessions = (await Promise.all([first, ...racers].map(sessionEmail))).filter((email) => email === user.email);
      expect(sessions).toHaveLength(1);
    });

    test("failures on two instances add up to one lockout", async () => {
      const user = await enrolledUser();
      const [a, b] = [await clientOn(0), await clientOn(1)];
      for (const client of [a, b]) expect((await passwordStep(client, user.email, user.password)).body).toContain('"step":"code"');
      // Five wrong codes in total, alternating A, B, A, B, A: no instance alone saw five.
      const answers: string[] = [];
      for (let i = 0; i < 5; i++) answers.push((await codeStep(i % 2 === 0 ? a : b, wrongCode(user.secret))).body);
      expect(answers.slice(0, 4).some((body) => body.includes(LOCKED))).toBe(false);
      expect(answers[4]).toContain(LOCKED);
      // The right code is now refused on both instances.
      const code = totp(user.secret);
      for (const client of [a, b]) {
        expect((await codeStep(client, code)).body).toContain(LOCKED);
        expect(await sessionEmail(client)).toBeNull();
      }
    });
  });
}
