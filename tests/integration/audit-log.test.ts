import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { resolveAuditFilters } from "@/lib/admin/audit-query";
import { recordEvent } from "@/lib/audit";
import { AUDIT_COUNT_LIMIT, auditCsv, countAuditEvents, listAuditEvents, recentEventsFor } from "@/lib/audit-log";
import { testDrivers, useTestDatabase } from "./support/databases";
import { CONTEXT, newUser } from "./support/fixtures";

describe.each(testDrivers())("audit log on %s", (driver) => {
  const t = useTestDatabase(driver);

  it("filters by user (as actor or target), by event and by date, newest first", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await newUser(t.db);
    await recordEvent(t.db, "user.changed", { actorUserId: admin.id, targetUserId: user.id }, CONTEXT);
    await recordEvent(t.db, "sign_in.code_failed", { targetUserId: user.id }, CONTEXT);
    const byUser = await listAuditEvents(t.db, await resolveAuditFilters(t.db, { user: user.email }), 50);
    expect(byUser.map((r) => r.event).slice(0, 2)).toEqual(["sign_in.code_failed", "user.changed"]);
    expect(byUser[1]).toMatchObject({ actorEmail: admin.email, targetEmail: user.email, ip: CONTEXT.ip });
    const byAdmin = await listAuditEvents(t.db, await resolveAuditFilters(t.db, { user: admin.email, event: "user.changed" }), 50);
    expect(byAdmin).toHaveLength(1);
    const future = await resolveAuditFilters(t.db, { from: "2999-01-01" });
    expect(await countAuditEvents(t.db, future)).toEqual({ total: 0, capped: false });
    const today = new Date().toISOString().slice(0, 10);
    expect((await countAuditEvents(t.db, await resolveAuditFilters(t.db, { user: user.email, to: today }))).total).toBeGreaterThanOrEqual(2);
  });

  it("an email that matches nobody matches no event, not every event", async () => {
    await recordEvent(t.db, "settings.changed", {}, CONTEXT);
    expect(await countAuditEvents(t.db, await resolveAuditFilters(t.db, { user: "nobody@example.com" }))).toEqual({ total: 0, capped: false });
  });

  it("security activity shows a user only their own events", async () => {
    const [a, b] = [await newUser(t.db), await newUser(t.db)];
    await recordEvent(t.db, "sign_in.succeeded", { actorUserId: a.id, targetUserId: a.id }, CONTEXT);
    await recordEvent(t.db, "sign_in.succeeded", { actorUserId: b.id, targetUserId: b.id }, CONTEXT);
    const mine = await recentEventsFor(t.db, a.id);
    expect(mine.every((r) => r.targetEmail === a.email || r.actorEmail === a.email)).toBe(true);
    expect(mine.length).toBeGreaterThanOrEqual(1);
  });

  it("counts at most 1 000 events, or to the end of the page asked for, and says when there are more", async () => {
    const user = await newUser(t.db);
    await t.db.execute(sql`
      insert into audit_events (event, actor_user_id, at)
      select 'sign_in.succeeded', ${user.id}, now() - make_interval(secs => g) from generate_series(1, ${AUDIT_COUNT_LIMIT + 3}) as g`);
    const filters = await resolveAuditFilters(t.db, { user: user.email, event: "sign_in.succeeded" });
    expect(await countAuditEvents(t.db, filters)).toEqual({ total: AUDIT_COUNT_LIMIT, capped: true });
    expect(await countAuditEvents(t.db, filters, AUDIT_COUNT_LIMIT + 50)).toEqual({ total: AUDIT_COUNT_LIMIT + 3, capped: false });
    expect(await countAuditEvents(t.db, await resolveAuditFilters(t.db, { user: user.email, event: "user.changed" }))).toEqual({ total: 0, capped: false });
  });

  it("pages a user's history as actor, as target and as both: newest first, each event once, none skipped", async () => {
    const [user, other] = [await newUser(t.db), await newUser(t.db)];
    const roles = [
      { actor_user_id: user.id, target_user_id: other.id },
      { actor_user_id: other.id, target_user_id: user.id },
      { actor_user_id: user.id, target_user_id: user.id },
      { actor_user_id: other.id, target_user_id: other.id }, // not the user's
    ];
    for (let i = 0; i < 40; i++) {
      const role = roles[i % roles.length];
      await t.db.execute(sql`insert into audit_events (event, actor_user_id, target_user_id, at, details)
        values ('user.changed', ${role.actor_user_id}, ${role.target_user_id}, now() - make_interval(mins => ${i}), ${JSON.stringify({ i })}::jsonb)`);
    }
    const filters = await resolveAuditFilters(t.db, { user: user.email, event: "user.changed" });
    const pages = [];
    for (let offset = 0; offset < 35; offset += 7) pages.push(...(await listAuditEvents(t.db, filters, 7, offset)));
    const expected = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % roles.length !== 3);
    expect(pages.map((r) => r.details?.i)).toEqual(expected);
    expect(await countAuditEvents(t.db, filters)).toEqual({ total: 30, capped: false });
  });
});

describe("audit CSV", () => {
  it("quotes separators and neutralises spreadsheet formulas (CSV injection)", () => {
    const csv = auditCsv([
      { id: 1, at: new Date("2026-01-02T03:04:05Z"), event: "sign_in.password_failed", actorEmail: null, targetEmail: "a@example.com", ip: "203.0.113.1", userAgent: '=HYPERLINK("http://evil"), "x"', details: { reason: "bad_credentials" } },
    ]);
    const [header, line] = csv.trim().split("\r\n");
    expect(header).toBe("time_utc,event,actor,target,ip,user_agent,details");
    expect(line).toContain("2026-01-02T03:04:05.000Z,sign_in.password_failed,,a@example.com,203.0.113.1,");
    expect(line).toContain(`"'=HYPERLINK(""http://evil""), ""x"""`);
  });
});
