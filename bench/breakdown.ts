/**
 * Evidence for docs/PERFORMANCE.md: one request at a time (no queueing), the
 * median latency and response size of each request the sign-in involves, so
 * that the cost of a step can be split into its parts; and, when the
 * PostgreSQL server log is readable, the SQL statements each request sends
 * (log_statement = all on the bench database only).
 *   npm run bench:breakdown [-- rounds]
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import postgres from "postgres";
import { request } from "undici";
import { BENCH_PASSWORD, BENCH_SECRETS, PORTS } from "./lib/config";
import { CODE, EMAIL, PASSWORD, captureSignIn, fill } from "./lib/actions";
import { startApp } from "./lib/app-server";
import { createPgDatabase, openMigrated, seedBenchUsers } from "./lib/database";
import { median } from "./lib/load";
import { SESSION_COOKIE, signInOverHttp } from "./lib/sign-in";
import { base32Decode, hotp, timeStep } from "./lib/totp";

type Probe = { method: "GET" | "POST"; path: string; headers?: Record<string, string>; body?: string };

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 40);
  Object.assign(process.env, BENCH_SECRETS);
  delete process.env.DATABASE_URL;
  const { hashPassword } = await import("@/lib/auth/password");
  const pg = await createPgDatabase("breakdown");
  const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  try {
    const handle = await openMigrated({ url: pg.url });
    const users = await seedBenchUsers(handle.db, rounds + 10, await hashPassword(BENCH_PASSWORD));
    await handle.close();
    // Every statement of this database's sessions goes to the server log: counted per request below.
    const LOG = "/var/log/postgresql/postgresql-15-main.log";
    const countStatements = existsSync(LOG);
    if (countStatements) await sql.unsafe(`alter database "${pg.name}" set log_statement = 'all'`);
    const statementsSince = (offset: number) => {
      const text = readFileSync(LOG).subarray(offset).toString("utf8");
      return text.split("\n").filter((line) => line.includes(`@${pg.name} LOG:  `) && /LOG: {2}(execute|statement)/.test(line)).length;
    };
    const { server } = await startApp(PORTS.app, { url: pg.url });
    try {
      const origin = server.origin;
      const templates = await captureSignIn(origin, users[rounds + 1]);
      const session = `${SESSION_COOKIE}=${await signInOverHttp(origin, templates, users[rounds + 2])}`;
      let n = 0;
      const challenge = async () => {
        const token = randomBytes(32).toString("base64url");
        const user = users[n++ % rounds];
        await sql`update totp_credentials set last_used_step = null where user_id = ${user.id}`;
        await sql`insert into sign_in_challenges (token_hash, user_id, purpose, expires_at) values (${createHash("sha256").update(token).digest("hex")}, ${user.id}, 'sign_in', now() + interval '5 minutes')`;
        return { token, user };
      };
      const probes: Record<string, () => Promise<Probe>> = {
        "GET /api/health/live (no-op route)": async () => ({ method: "GET", path: "/api/health/live" }),
        "GET /login (HTML)": async () => ({ method: "GET", path: "/login", headers: { "accept-encoding": "gzip" } }),
        "GET / signed in (HTML)": async () => ({ method: "GET", path: "/", headers: { cookie: session, "accept-encoding": "gzip" } }),
        "GET /api/auth/session (Auth.js: decrypt JWT + jwt callback query)": async () => ({ method: "GET", path: "/api/auth/session", headers: { cookie: session } }),
        "POST /login/password (argon2id + challenge)": async () =>
          fill(templates.password, { [EMAIL]: users[n++ % rounds].email, [PASSWORD]: BENCH_PASSWORD }),
        "POST /login/code (completeSignIn + session cookie)": async () => {
          const { token, user } = await challenge();
          return fill(templates.code, { [CODE]: hotp(base32Decode(user.secret), timeStep()) }, `signin-challenge=${token}`);
        },
      };
      console.log(`median of ${rounds} sequential requests (one at a time):`);
      for (const [name, make] of Object.entries(probes)) {
        const times: number[] = [];
        let bytes = 0;
        let status = 0;
        for (let i = -3; i < rounds; i++) {
          const probe = await make();
          const started = performance.now();
          const response = await request(origin + probe.path, { method: probe.method, headers: probe.headers, body: probe.body });
          const body = Buffer.from(await response.body.arrayBuffer());
          if (i >= 0) times.push(performance.now() - started);
          bytes = body.length;
          status = response.statusCode;
          if (response.statusCode >= 400) throw new Error(`${name}: ${response.statusCode}`);
        }
        let statements = "";
        if (countStatements) {
          const prepared = [];
          for (let k = 0; k < 5; k++) prepared.push(await make()); // challenges are inserted before the offset is read
          const offset = statSync(LOG).size;
          for (const probe of prepared) await (await request(origin + probe.path, { method: probe.method, headers: probe.headers, body: probe.body })).body.arrayBuffer();
          await new Promise((resolve) => setTimeout(resolve, 300));
          statements = `${(statementsSince(offset) / 5).toFixed(1).padStart(5)} SQL`;
        }
        console.log(`  ${median(times).toFixed(1).padStart(7)} ms  ${String(bytes).padStart(7)} B  ${status}  ${statements}  ${name}`);
      }
    } finally {
      await server.stop();
    }
  } finally {
    await sql.end();
    await pg.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
