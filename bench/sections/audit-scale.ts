import postgres from "postgres";
import { drizzle } from "drizzle-orm/postgres-js";
import * as schema from "@/db/schema";
import type { Database } from "@/db";
import { resolveAuditFilters } from "@/lib/admin/audit-query";
import { AUDIT_EVENTS } from "@/lib/audit";
import { AUDIT_PAGE_SIZE, countAuditEvents, listAuditEvents } from "@/lib/audit-log";
import type { AuditFilterParams } from "@/lib/validation/audit-filters";
import { createPgDatabase, openMigrated, type PgDatabase } from "../lib/database";
import { median } from "../lib/load";
import type { RunOptions, SectionResult } from "../lib/context";
import { explainStatements, type Plan } from "../lib/explain";

/** The users the events belong to; one of them is the user filter's subject. */
const USERS = 1_000;
const FILTERED_USER = "audit-user-0042@bench.example";

/** What an administrator asks the Audit log: its first page, one event type, one user. */
const VIEWS: Record<string, AuditFilterParams> = {
  firstPage: {},
  event: { event: "sign_in.code_failed" },
  user: { user: FILTERED_USER },
};
type View = keyof typeof VIEWS;

type Instance = { size: number; pg: PgDatabase };

/**
 * 3b. Audit log at 10 000 and at 1 000 000 events: what the page awaits
 * (resolveAuditFilters, then listAuditEvents and countAuditEvents together),
 * timed one view at a time, alternating the two sizes; and EXPLAIN ANALYZE of
 * every statement at the large size, checked for sequential scans. Seeded in
 * one INSERT … SELECT from generate_series per database (~1 M rows in seconds).
 */
export async function auditScale(options: RunOptions): Promise<SectionResult> {
  const largeSize = options.quick ? 100_000 : 1_000_000;
  const instances: Instance[] = [
    { size: 10_000, pg: await createPgDatabase("audit_small") },
    { size: largeSize, pg: await createPgDatabase("audit_large") },
  ];
  try {
    for (const instance of instances) {
      const started = performance.now();
      await seedAudit(instance);
      options.log(`audit log: seeded ${instance.size} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    const rounds = options.quick ? 8 : 30;
    const { ms, plans } = await timeViews(instances, rounds);
    const ratio = (view: View) => ms[view][1] / ms[view][0];
    // The figure is about the table that grows here; other tables' scans (the 1 000 users joined to a
    // page of 50 events, which the planner rightly hashes whole at that size) are listed in the note.
    const scans = plans.flatMap((p) => p.seqScans.map((relation) => `${p.view}: ${relation}`));
    const auditScans = scans.filter((s) => s.endsWith(": audit_events"));
    const label = `${largeSize >= 1_000_000 ? `${largeSize / 1_000_000}M` : `${largeSize / 1000}k`} ÷ 10k events`;
    const note = (view: View) => `${ms[view][1].toFixed(2)} ms vs ${ms[view][0].toFixed(2)} ms (median of ${rounds}; the query functions the page awaits)`;
    return {
      figures: [
        { section: 3.5, key: "auditFirstPageScaleRatio", label: `3b. Audit log first page, ${label}`, value: ratio("firstPage"), unit: "×", target: { op: "<=", value: 1.5 }, note: note("firstPage") },
        { section: 3.5, key: "auditEventFilterScaleRatio", label: `   Audit log, one event type, ${label}`, value: ratio("event"), unit: "×", target: { op: "<=", value: 1.5 }, note: note("event") },
        { section: 3.5, key: "auditUserFilterScaleRatio", label: `   Audit log, one user, ${label}`, value: ratio("user"), unit: "×", target: { op: "<=", value: 1.5 }, note: note("user") },
        {
          section: 3.5,
          key: "auditSeqScanCount",
          label: `   sequential scans of audit_events in EXPLAIN`,
          value: auditScans.length,
          unit: "",
          target: { op: "<=", value: 0 },
          note: `${auditScans.join("; ") || "none"}; of other tables: ${scans.filter((s) => !auditScans.includes(s)).join("; ") || "none"}`,
        },
      ],
      details: { sizes: instances.map((i) => i.size), medianMs: ms, plans },
    };
  } finally {
    for (const instance of instances) await instance.pg.drop();
  }
}

/**
 * USERS users, then `size` events over the last 300 days: event types drawn from the app's own
 * list, each with a target user and, for half, an actor, an IP and a browser, as real rows have.
 */
async function seedAudit(instance: Instance): Promise<void> {
  const handle = await openMigrated({ url: instance.pg.url });
  await handle.close();
  const sql = postgres(instance.pg.url, { max: 1, onnotice: () => {} });
  try {
    await sql`
      insert into users (name, email, password_hash)
      select 'Audit User ' || g, 'audit-user-' || lpad(g::text, 4, '0') || '@bench.example', 'x'
      from generate_series(1, ${USERS}) as g`;
    await sql`
      with u as (select array_agg(id order by email) as ids from users)
      insert into audit_events (at, event, actor_user_id, target_user_id, ip, user_agent)
      select now() - make_interval(secs => (g::float8 / ${instance.size}) * 300 * 86400),
             (${AUDIT_EVENTS as unknown as string[]}::text[])[1 + g % ${AUDIT_EVENTS.length}],
             case when g % 2 = 0 then u.ids[1 + (g * 13) % ${USERS}] end,
             u.ids[1 + (g * 31) % ${USERS}],
             '203.0.113.' || (g % 250),
             'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36'
      from generate_series(1, ${instance.size}) as g, u`;
    // A PostgreSQL server's autovacuum would have done this long ago; index-only scans depend on it.
    await sql`vacuum analyze users, audit_events`;
  } finally {
    await sql.end();
  }
}

async function timeViews(instances: Instance[], rounds: number): Promise<{ ms: Record<View, number[]>; plans: Plan[] }> {
  const clients = instances.map((instance) => postgres(instance.pg.url, { max: 3, onnotice: () => {} }));
  const dbs = clients.map((client) => drizzle(client, { schema }) as unknown as Database);
  const page = async (db: Database, view: View) => {
    const filters = await resolveAuditFilters(db, VIEWS[view]);
    const [rows] = await Promise.all([listAuditEvents(db, filters, AUDIT_PAGE_SIZE), countAuditEvents(db, filters, AUDIT_PAGE_SIZE)]);
    if (rows.length === 0) throw new Error(`audit view ${view} matched nothing`);
  };
  try {
    const samples = Object.fromEntries(Object.keys(VIEWS).map((v) => [v, instances.map(() => [] as number[])])) as Record<View, number[][]>;
    for (let round = -3; round < rounds; round++) {
      for (const view of Object.keys(VIEWS) as View[]) {
        // Alternate which size goes first, so neither always follows the other.
        for (const i of round % 2 ? [0, 1] : [1, 0]) {
          const started = performance.now();
          await page(dbs[i], view);
          if (round >= 0) samples[view][i].push(performance.now() - started);
        }
      }
    }
    const ms = Object.fromEntries(Object.entries(samples).map(([view, bySize]) => [view, bySize.map(median)])) as Record<View, number[]>;
    const large = instances.length - 1;
    const plans: Plan[] = [];
    for (const view of Object.keys(VIEWS) as View[]) {
      plans.push(...(await explainStatements(instances[large].pg.url, (db) => page(db, view))).map((p) => ({ ...p, view, size: instances[large].size })));
    }
    return { ms, plans };
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}
