import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { cli, createDataDir, startServer, type Server, type Storage } from "./support/server";
import { startPrivatePostgres, type PrivatePostgres } from "./support/private-postgres";
import { addUser, callAction, enroll, newClient, passwordStep, sessionEmail, signIn, totp, uniqueUser, type Client } from "./support/client";

/**
 * Faults beneath a running server: the process killed with SIGKILL, the
 * database restarted or crashing mid-transaction. What the server
 * acknowledged must stay; what it did not must not be half there.
 */
const ADMIN = { email: "admin@example.com", password: "walnut signal ember 9" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test.describe.configure({ timeout: 120_000 });

/** Server, clients and cluster of one test, cleaned up whatever happens. */
function resources() {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  return {
    add<T>(value: T, cleanup: (value: T) => Promise<unknown> | unknown): T {
      cleanups.push(() => cleanup(value));
      return value;
    },
    async release() {
      for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    },
  };
}

/** Starts a server whose log is attached to the test's report (the first place to look when it fails). */
async function ownServer(
  port: number,
  storage: Storage,
  owned: ReturnType<typeof resources>,
  cleanup: (s: Server) => Promise<void>,
  env: Record<string, string> = {},
) {
  const server = await startServer(port, storage, env);
  owned.add(server, async (s) => {
    await cleanup(s);
    await test.info().attach(`server-${port}-${s.pid}.log`, { body: s.log(), contentType: "text/plain" });
  });
  return server;
}

async function adminClient(server: Server, owned: ReturnType<typeof resources>): Promise<Client> {
  const client = owned.add(await newClient(server.url, { timeoutMs: 15_000 }), (c) => c.dispose());
  await signIn(client, ADMIN.email, ADMIN.password);
  return client;
}

/**
 * True when the Users page lists exactly this email. The search box echoes the query in its value
 * attribute; only a listed user has the email as an element's whole text.
 */
async function listed(admin: Client, email: string): Promise<boolean> {
  const html = await (await admin.get(`/admin/users?query=${encodeURIComponent(email)}`)).text();
  return html.includes(`>${email}<`);
}

test("the embedded database survives kill -9 of the server and reopens", async () => {
  const owned = resources();
  try {
    const folder = owned.add(createDataDir(), (f) => f.remove());
    const storage: Storage = { dataDir: folder.dataDir };
    const lockFile = path.join(folder.dataDir, "pglite.lock");
    cli(storage, "create-user", "--email", ADMIN.email, "--password", ADMIN.password, "--admin");
    const first = await ownServer(3210, storage, owned, (s) => s.kill());
    const admin = await adminClient(first, owned);

    const acknowledged: string[] = [];
    for (let i = 0; i < 5; i++) {
      const user = uniqueUser("Durable");
      expect(await addUser(admin, user)).toBe(true);
      acknowledged.push(user.email);
    }
    // A burst of writes; SIGKILL as soon as the first is answered, the rest still in flight.
    let firstAnswer!: () => void;
    const answered = new Promise<void>((resolve) => (firstAnswer = resolve));
    const burst = Array.from({ length: 12 }, () => uniqueUser("InFlight"));
    const replies = burst.map((user) =>
      addUser(admin, user)
        .then((ok) => {
          if (ok) acknowledged.push(user.email);
          return ok;
        })
        .catch(() => false)
        .finally(firstAnswer),
    );
    await answered;
    await first.kill();
    const outcomes = await Promise.all(replies);
    expect(outcomes.filter((ok) => !ok).length, "some writes were cut off by the kill").toBeGreaterThan(0);

    // kill -9 ran no exit hook: the pid lock of the dead server is still there.
    expect(readFileSync(lockFile, "utf8")).toBe(String(first.pid));
    const second = await ownServer(3210, storage, owned, (s) => s.stop());
    expect(readFileSync(lockFile, "utf8"), "the new server took over the stale lock").toBe(String(second.pid));

    const again = await adminClient(second, owned); // the admin can sign in
    for (const email of acknowledged) expect(await listed(again, email), `${email} was acknowledged`).toBe(true);
    expect(second.log()).not.toContain("could not start");
  } finally {
    await owned.release();
  }
});

if (process.env.DATABASE_URL) {
  // These need PostgreSQL binaries of their own cluster (CI's DATABASE_URL server must not be restarted).

  test("PostgreSQL restarted under load: the app recovers without a restart and loses nothing acknowledged", async () => {
    const owned = resources();
    try {
      const cluster = owned.add(await startPrivatePostgres(55432), (c) => c.remove());
      const storage: Storage = { databaseUrl: cluster.url() };
      cli(storage, "create-user", "--email", ADMIN.email, "--password", ADMIN.password, "--admin");
      // A small pool, so that every connection is certainly reused after the restarts.
      const server = await ownServer(3211, storage, owned, (s) => s.stop(), { DATABASE_POOL_MAX: "4" });
      const admin = await adminClient(server, owned);

      // Steady load: six writers adding users back to back (each in a transaction, so that some are
      // open when the connections drop); a write counts only when the server said so.
      type Outcome = { email: string; ok: boolean; ms: number; error?: string };
      const outcomes: Outcome[] = [];
      let loading = true;
      const writer = async () => {
        while (loading) {
          const user = uniqueUser("Load");
          const started = Date.now();
          try {
            outcomes.push({ email: user.email, ok: await addUser(admin, user), ms: Date.now() - started });
          } catch (error) {
            outcomes.push({ email: user.email, ok: false, ms: Date.now() - started, error: String(error).split("\n")[0] });
          }
          if (!outcomes.at(-1)!.ok) await sleep(100);
        }
      };
      const writers = Array.from({ length: 6 }, writer);

      await sleep(2_000);
      await cluster.restart("fast");
      await sleep(2_000);
      await cluster.stop("fast");
      await sleep(2_000); // a real outage: refused connections for a while
      await cluster.start();
      const backAt = Date.now();
      const acknowledgedBefore = outcomes.filter((o) => o.ok).length;

      // The same server process signs people in again within a few seconds.
      await expect
        .poll(
          async () => {
            const client = owned.add(await newClient(server.url, { timeoutMs: 5_000 }), (c) => c.dispose());
            await passwordStep(client, ADMIN.email, ADMIN.password).catch(() => null);
            return sessionEmail(client).catch(() => null);
          },
          { timeout: 8_000, intervals: [250] },
        )
        .toBe(ADMIN.email);
      console.log(`[faults] sign-in works again ${Date.now() - backAt} ms after PostgreSQL is back`);
      await sleep(2_000);
      loading = false;
      await Promise.all(writers);

      expect(server.running(), "the server process is still the same one").toBe(true);
      const failed = outcomes.filter((o) => !o.ok);
      const acknowledged = outcomes.filter((o) => o.ok).map((o) => o.email);
      expect(failed.length, "the outages were felt").toBeGreaterThan(0);
      expect(acknowledged.length, "the writes resumed").toBeGreaterThan(acknowledgedBefore);
      // Refused or failed, but answered at once: nothing waited on a dead (or wedged) connection.
      expect(outcomes.filter((o) => o.ms > 5_000)).toEqual([]);

      const sql = postgres(cluster.url(), { max: 1, onnotice: () => {} });
      try {
        const rows = await sql<{ email: string }[]>`select email from users where email = any(${acknowledged})`;
        expect(rows.map((r) => r.email).sort()).toEqual([...acknowledged].sort());
      } finally {
        await sql.end();
      }
    } finally {
      await owned.release();
    }
  });

  test("the database stopped in the middle of enrollment leaves no half-enabled 2FA", async () => {
    const owned = resources();
    try {
      const cluster: PrivatePostgres = owned.add(await startPrivatePostgres(55433), (c) => c.remove());
      const storage: Storage = { databaseUrl: cluster.url() };
      cli(storage, "create-user", "--email", ADMIN.email, "--password", ADMIN.password, "--admin");
      const server = await ownServer(3212, storage, owned, (s) => s.stop());
      const client = await adminClient(server, owned);
      const sql = owned.add(postgres(cluster.url(), { max: 2, onnotice: () => {} }), (s) => s.end({ timeout: 1 }));
      const [{ id: userId }] = await sql<{ id: string }[]>`select id from users where email = ${ADMIN.email}`;

      const start = await callAction(client, "startEnrollmentAction");
      const secret = /"setupKey":"([A-Z2-7]+)"/.exec(start.body)![1];
      // Another session holds the user's row: the confirmation transaction enables the credential,
      // then waits at its first write to `users`.
      const blocker = await sql.reserve();
      await blocker`begin`;
      await blocker`select id from users where id = ${userId} for update`;
      const confirming = callAction(client, "confirmEnrollmentAction", { before: [{ status: "idle" }], form: { code: totp(secret) } }).catch(
        (error: unknown) => ({ status: 0, body: String(error), redirectedTo: null }),
      );
      // The confirmation waits at `update "users"`: its credential update (the statement before) is done.
      await expect
        .poll(
          async () =>
            (
              await sql<{ n: number }[]>`
                select count(*)::int as n from pg_stat_activity
                where wait_event_type = 'Lock' and query ilike 'update "users"%'`
            )[0].n,
          { timeout: 15_000 },
        )
        .toBe(1);

      await cluster.stop("immediate"); // a crash: no transaction gets to finish
      blocker.release();
      const reply = await confirming;
      expect(reply.body, "no recovery codes were handed out").not.toMatch(/"recoveryCodes"/);
      await cluster.start();

      const check = postgres(cluster.url(), { max: 1, onnotice: () => {} });
      owned.add(check, (s) => s.end({ timeout: 1 }));
      const state = async () => {
        const [row] = await check<{ enabled: number; codes: number; audited: number }[]>`
          select
            (select count(*)::int from totp_credentials where user_id = ${userId} and enabled_at is not null) as enabled,
            (select count(*)::int from recovery_codes where user_id = ${userId}) as codes,
            (select count(*)::int from audit_events where target_user_id = ${userId} and event = 'two_factor.enabled') as audited`;
        return row;
      };
      expect(await state()).toEqual({ enabled: 0, codes: 0, audited: 0 });

      // Not enrolled in the app's eyes: the password alone signs in (no code step), once it reconnects.
      await expect
        .poll(
          async () => {
            const fresh = owned.add(await newClient(server.url, { timeoutMs: 5_000 }), (c) => c.dispose());
            await passwordStep(fresh, ADMIN.email, ADMIN.password).catch(() => null);
            return sessionEmail(fresh).catch(() => null);
          },
          { timeout: 15_000, intervals: [250] },
        )
        .toBe(ADMIN.email);

      // And enrolling again works, all of it.
      const enrolled = await enroll(client);
      expect(enrolled.recoveryCodes).toHaveLength(10);
      expect(await state()).toEqual({ enabled: 1, codes: 10, audited: 1 });
    } finally {
      await owned.release();
    }
  });
}
