import postgres from "postgres";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { request } from "undici";
import * as schema from "@/db/schema";
import type { Database } from "@/db";
import { seedUsers } from "@/lib/admin/seed-users";
import { hashPassword } from "@/lib/auth/password";
import { countEnrolledUsers, createUser, searchUsers } from "@/lib/users";
import { parseUserSearch } from "@/lib/validation/user-search";
import type { SignInTemplates } from "../lib/actions";
import { startApp, type AppServer } from "../lib/app-server";
import { ADMIN_EMAIL, BENCH_PASSWORD, PORTS } from "../lib/config";
import { createPgDatabase, openMigrated, type PgDatabase } from "../lib/database";
import { explainStatements, type Plan } from "../lib/explain";
import { median } from "../lib/load";
import type { RunOptions, SectionResult } from "../lib/context";
import { SESSION_COOKIE, signInOverHttp } from "../lib/sign-in";

/** What the Users page is asked: the first page, and a search by name (as an admin types it). */
const VIEWS = { firstPage: "/admin/users", search: "/admin/users?query=zoe", emailSearch: "/admin/users?query=user00042" } as const;
type View = keyof typeof VIEWS;

type Instance = { size: number; pg: PgDatabase; server?: AppServer; cookie?: string };

/**
 * 3. Users page at 1 000 and at 100 000 users: two databases seeded by the
 * app's own seeder (lib/admin/seed-users.ts), one server each, timed in
 * alternation (small, large, small, …) so that both see the same noise.
 * Server time = one request at a time on loopback, first byte sent to last
 * byte read (the page is rendered dynamically; nothing is cached).
 * Also: the query functions the page calls, timed alone, and EXPLAIN ANALYZE
 * of every statement they send, checked for sequential scans.
 */
export async function usersScale(templates: SignInTemplates, options: RunOptions & { largeUsers: number }): Promise<SectionResult> {
  const instances: Instance[] = [{ size: 1_000, pg: await createPgDatabase("users_small") }, { size: options.largeUsers, pg: await createPgDatabase("users_large") }];
  try {
    const passwordHash = await hashPassword(BENCH_PASSWORD);
    for (const instance of instances) {
      options.log(`users page: seeding ${instance.size} users`);
      const started = performance.now();
      const handle = await openMigrated({ url: instance.pg.url });
      await createUser(handle.db, { name: "Bench Admin", email: ADMIN_EMAIL, password: BENCH_PASSWORD, admin: true }, null, { ip: null, userAgent: "bench" });
      await seedUsers(handle.db, { count: instance.size - 1, passwordHash });
      // One user in 50 with a security key, as on an instance that offers them: the page counts each row's
      // keys, and on an empty table no plan would show what that costs. (The users with keys alone are counted
      // by migration 0013's triggers, this INSERT included: one statement, one UPDATE of user_counts.)
      await handle.db.execute(sql`
        insert into security_keys (user_id, credential_id, public_key, device_type, backed_up, user_verified, aaguid, name)
        select id, 'bench-' || id, 'bench', 'multiDevice', true, true, '00000000-0000-0000-0000-000000000000', 'Bench key'
        from users where abs(hashtext(email)) % 50 = 0`);
      await handle.db.execute(sql`analyze security_keys`);
      await handle.close();
      options.log(`users page: seeded ${instance.size} users in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    const [small, large] = instances;
    ({ server: small.server } = await startApp(PORTS.usersSmall, { url: small.pg.url }));
    ({ server: large.server } = await startApp(PORTS.usersLarge, { url: large.pg.url }));
    for (const instance of instances) {
      instance.cookie = `${SESSION_COOKIE}=${await signInOverHttp(instance.server!.origin, templates, { email: ADMIN_EMAIL })}`;
    }
    const rounds = options.quick ? 8 : 30;
    options.log(`users page: ${rounds} rounds of ${Object.keys(VIEWS).length} views × 2 sizes`);
    const http = await timeViews(instances, rounds);
    options.log("users page: query functions and EXPLAIN");
    const queries = await timeQueries(instances, rounds);
    const ratio = (view: View) => median(http[view][1]) / median(http[view][0]);
    const ms = (view: View, i: number) => median(http[view][i]).toFixed(1);
    const seqScans = queries.plans.flatMap((p) => p.seqScans.map((relation) => `${p.view}: ${relation}`));
    const label = `${(large.size / 1000).toFixed(0)}k`;
    return {
      figures: [
        {
          section: 3, key: "usersFirstPageScaleRatio",
          label: `3. Users first page, ${label} ÷ 1k users`,
          value: ratio("firstPage"),
          unit: "×",
          target: { op: "<=", value: 1.5 },
          note: `${ms("firstPage", 1)} ms vs ${ms("firstPage", 0)} ms (median of ${rounds}); query functions alone ${queries.ms.firstPage[1].toFixed(2)} vs ${queries.ms.firstPage[0].toFixed(2)} ms`,
        },
        {
          section: 3, key: "usersSearchScaleRatio",
          label: `   Users search "zoe", ${label} ÷ 1k`,
          value: ratio("search"),
          unit: "×",
          target: { op: "<=", value: 1.5 },
          note: `${ms("search", 1)} ms vs ${ms("search", 0)} ms; query functions alone ${queries.ms.search[1].toFixed(2)} vs ${queries.ms.search[0].toFixed(2)} ms`,
        },
        {
          section: 3, key: "usersEmailSearchScaleRatio",
          label: `   Users search "user00042", ${label} ÷ 1k`,
          value: ratio("emailSearch"),
          unit: "×",
          target: { op: "<=", value: 1.5 },
          note: `${ms("emailSearch", 1)} ms vs ${ms("emailSearch", 0)} ms; query functions alone ${queries.ms.emailSearch[1].toFixed(2)} vs ${queries.ms.emailSearch[0].toFixed(2)} ms`,
        },
        {
          section: 3, key: "usersScaleRatio",
          label: "   Users page, worst of the three",
          value: Math.max(ratio("firstPage"), ratio("search"), ratio("emailSearch")),
          unit: "×",
          target: { op: "<=", value: 1.5 },
        },
        {
          section: 3, key: "usersSeqScanCount",
          label: `   sequential scans in EXPLAIN at ${label}`,
          value: seqScans.length,
          unit: "",
          target: { op: "<=", value: 0 },
          note: seqScans.join("; ") || "none",
        },
      ],
      details: {
        sizes: instances.map((i) => i.size),
        httpMedianMs: Object.fromEntries(Object.keys(VIEWS).map((v) => [v, http[v as View].map(median)])),
        queryMedianMs: queries.ms,
        plans: queries.plans,
      },
    };
  } finally {
    for (const instance of instances) {
      await instance.server?.stop();
      await instance.pg.drop();
    }
  }
}

async function timeViews(instances: Instance[], rounds: number): Promise<Record<View, number[][]>> {
  const samples = Object.fromEntries(Object.keys(VIEWS).map((v) => [v, instances.map(() => [] as number[])])) as Record<View, number[][]>;
  const fetchView = async (instance: Instance, view: View) => {
    const started = performance.now();
    const response = await request(instance.server!.origin + VIEWS[view], { headers: { cookie: instance.cookie! } });
    const html = await response.body.text();
    if (response.statusCode !== 200 || !html.includes(`aria-label="Pages"`)) throw new Error(`${VIEWS[view]} answered ${response.statusCode}`);
    return performance.now() - started;
  };
  for (let round = -3; round < rounds; round++) {
    for (const view of Object.keys(VIEWS) as View[]) {
      // Alternate which size goes first, so neither always follows the other.
      const order = round % 2 ? [0, 1] : [1, 0];
      for (const i of order) {
        const ms = await fetchView(instances[i], view);
        if (round >= 0) samples[view][i].push(ms); // the first three rounds warm up
      }
    }
  }
  return samples;
}

/** The same views through lib/users.ts alone (what the page awaits), and the plan of every statement at the large size. */
async function timeQueries(instances: Instance[], rounds: number): Promise<{ ms: Record<View, number[]>; plans: Plan[] }> {
  const ms = Object.fromEntries(Object.keys(VIEWS).map((v) => [v, [] as number[]])) as Record<View, number[]>;
  const plans: Plan[] = [];
  for (const instance of instances) {
    const client = postgres(instance.pg.url, { max: 2, onnotice: () => {} });
    const db = drizzle(client, { schema }) as unknown as Database;
    try {
      for (const view of Object.keys(VIEWS) as View[]) {
        const search = parseUserSearch(Object.fromEntries(new URL(VIEWS[view], "http://x").searchParams));
        const run = (on: Database) => Promise.all([searchUsers(on, search), countEnrolledUsers(on)]);
        const times: number[] = [];
        for (let round = -3; round < rounds; round++) {
          const started = performance.now();
          await run(db);
          if (round >= 0) times.push(performance.now() - started);
        }
        ms[view].push(median(times));
        if (instance !== instances[instances.length - 1]) continue;
        plans.push(...(await explainStatements(instance.pg.url, run)).map((p) => ({ ...p, view, size: instance.size })));
      }
    } finally {
      await client.end();
    }
  }
  return { ms, plans };
}
