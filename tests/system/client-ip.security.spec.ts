import { existsSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { sql } from "drizzle-orm";
import { codeStep, enroll, newClient, passwordStep, signIn, wrongCode, type Client } from "./support/client";
import { rows, withDatabase } from "./support/database-dump";
import { freePort } from "./support/free-port";
import { startHop, type Hop } from "./support/hop";
import { cli, createStorage, DRIVERS, startServer, STANDALONE_SERVER, type Launch } from "./support/server";

/**
 * The client IP in the audit log, the notice mails and the per-IP password
 * limit (`password:ip:<ip>`), from a real server over HTTP. The attacker's
 * machine is a hop of its own on 127.0.0.5, writing a new X-Forwarded-For,
 * X-Real-IP and X-Socket-Address on every request: without TRUST_PROXY none
 * of them may count, only the socket's address; with TRUST_PROXY=1 the
 * address a proxy appended does, and nothing the client wrote before it.
 * Each run drives all three kinds of caller: a route handler (/login/password),
 * Auth.js authorize() (/login/code) and server actions (enrollment).
 */
const ATTACKER = "127.0.0.5";
const PROXY = "127.0.0.6";
const ADMIN = { email: "admin@example.com", password: "quartz meadow lighthouse 41" };
const VICTIM = { email: "victim@example.com", password: "copper orchard lantern 73" };
const GUESSES = 20;

// PostgreSQL when there is one (faster to start than a new PGlite); the IP does not depend on the database.
const DRIVER = DRIVERS.includes("postgres") ? "postgres" : "pglite";

/** Every forged value sent, to prove none of them was stored. */
const forged = new Set<string>();
let counter = 0;
function forgedHeaders(): Record<string, string> {
  const n = ++counter;
  const values = { xff: `198.51.100.${n % 250}`, far: `2001:db8::${n.toString(16)}`, real: `203.0.113.${n % 250}`, stamp: `192.0.2.${n % 250}` };
  for (const value of Object.values(values)) forged.add(value);
  return {
    "x-forwarded-for": `${values.far}, ${values.xff}`,
    "x-real-ip": values.real,
    "x-socket-address": `${"0".repeat(32)} ${values.stamp}`,
  };
}

test.describe.configure({ mode: "serial", timeout: 180_000 });

type Recorded = { audit: { event: string; ip: string | null }[]; limits: { key: string; count: number }[] };

/** Wrong passwords in parallel, a sign-in, an enrollment and a wrong code, all through `entry`. */
async function attackThrough(entry: string): Promise<void> {
  const clients: Client[] = [];
  const client = async () => {
    const c = await newClient(entry);
    clients.push(c);
    return c;
  };
  try {
    const guesser = await client();
    const answers = await Promise.all(Array.from({ length: GUESSES }, (_, i) => passwordStep(guesser, VICTIM.email, `wrong password ${i}`)));
    expect(answers.map((a) => a.status)).toEqual(Array(GUESSES).fill(200));
    const admin = await client();
    await signIn(admin, ADMIN.email, ADMIN.password);
    const { secret } = await enroll(admin);
    const second = await client();
    expect(JSON.parse((await passwordStep(second, ADMIN.email, ADMIN.password)).body)).toMatchObject({ step: "code" });
    expect((await codeStep(second, wrongCode(secret))).status).toBe(200);
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
  }
}

function expectAllUnder(recorded: Recorded, ip: string): void {
  const events = recorded.audit.map((row) => row.event);
  expect(events.filter((e) => e === "sign_in.password_failed")).toHaveLength(GUESSES);
  for (const event of ["sign_in.succeeded", "two_factor.enabled", "sign_in.code_failed"]) expect(events).toContain(event);
  expect(recorded.audit.filter((row) => row.ip !== ip), "every audit row carries the real address").toEqual([]);
  const perIp = recorded.limits.filter((row) => row.key.startsWith("password:ip:"));
  expect(perIp, "one per-IP counter, holding every guess").toEqual([{ key: `password:ip:${ip}`, count: GUESSES }]);
  const stored = JSON.stringify(recorded);
  expect([...forged].filter((value) => stored.includes(value)), "no forged address stored anywhere").toEqual([]);
}

/** A server with two users; `traffic` runs against its port; then (the server stopped: PGlite) what it stored. */
async function recordedBy(launch: Launch, env: Record<string, string>, traffic: (port: number) => Promise<void>): Promise<Recorded> {
  const { storage, remove } = await createStorage(DRIVER);
  try {
    cli(storage, "create-user", "--email", ADMIN.email, "--password", ADMIN.password, "--admin");
    cli(storage, "create-user", "--email", VICTIM.email, "--password", VICTIM.password);
    const port = await freePort();
    const server = await startServer(port, storage, env, launch);
    try {
      await traffic(port);
    } finally {
      await server.stop();
    }
    return await withDatabase(storage, async (db) => ({
      audit: await rows<{ event: string; ip: string | null }>(db, sql`select event, ip from audit_events where event <> 'user.created' order by id`),
      limits: await rows<{ key: string; count: number }>(db, sql`select key, count from rate_limits order by key`),
    }));
  } finally {
    await remove();
  }
}

const LAUNCHES: Launch[] = existsSync(STANDALONE_SERVER) ? ["next-start", "standalone"] : ["next-start"];

for (const launch of LAUNCHES) {
  test(`a client that forges X-Forwarded-For on every request is still recorded and limited under its socket address (${launch})`, async () => {
    const recorded = await recordedBy(launch, {}, async (port) => {
      const attacker = await startHop(port, { from: ATTACKER, rewrite: forgedHeaders });
      try {
        await attackThrough(attacker.url);
      } finally {
        await attacker.stop();
      }
    });
    expectAllUnder(recorded, ATTACKER);
  });
}

test("behind TRUST_PROXY=1, the address the proxy appended is the client's, not any it forged before it", async () => {
  const recorded = await recordedBy("next-start", { TRUST_PROXY: "1" }, async (port) => {
    const hops: Hop[] = [];
    try {
      // The proxy appends the address it received from, as nginx's $proxy_add_x_forwarded_for does.
      const proxy = await startHop(port, {
        from: PROXY,
        rewrite: (request) => ({ "x-forwarded-for": [request.headers["x-forwarded-for"], request.socket.remoteAddress].filter(Boolean).join(", ") }),
      });
      hops.push(proxy);
      const attacker = await startHop(Number(new URL(proxy.url).port), { from: ATTACKER, rewrite: forgedHeaders });
      hops.push(attacker);
      await attackThrough(attacker.url);
    } finally {
      await Promise.all(hops.map((hop) => hop.stop()));
    }
  });
  expectAllUnder(recorded, ATTACKER);
});
