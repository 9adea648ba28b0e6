import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditEvents, rateLimits, sessions, signInChallenges, trustedBrowsers } from "@/db/schema";
import { sweepExpired } from "@/lib/maintenance";
import { testDrivers, useTestDatabase } from "./support/databases";
import { newUser } from "./support/fixtures";

describe.each(testDrivers())("the hourly sweep on %s", (driver) => {
  const t = useTestDatabase(driver);

  it("deletes what has expired and keeps everything still live", async () => {
    const user = await newUser(t.db);
    const past = sql`now() - interval '1 minute'`;
    const future = sql`now() + interval '1 hour'`;
    await t.db.insert(signInChallenges).values([
      { tokenHash: "old-challenge", userId: user.id, purpose: "sign_in", expiresAt: past },
      { tokenHash: "live-challenge", userId: user.id, purpose: "sign_in", expiresAt: future },
    ]);
    await t.db.insert(trustedBrowsers).values([
      { userId: user.id, tokenHash: "old-trust", description: "old", expiresAt: past },
      { userId: user.id, tokenHash: "live-trust", description: "live", expiresAt: future },
    ]);
    await t.db.insert(sessions).values([
      { sid: "old-session", userId: user.id, sessionVersion: 0, expiresAt: past },
      { sid: "idle-session", userId: user.id, sessionVersion: 0, expiresAt: future, lastActiveAt: sql`now() - interval '61 minutes'` },
      { sid: "live-session", userId: user.id, sessionVersion: 0, expiresAt: future },
    ]);
    await t.db.insert(rateLimits).values([
      { key: `old:${user.id}`, count: 3, windowStartedAt: sql`now() - interval '2 days'` },
      { key: `live:${user.id}`, count: 3, windowStartedAt: sql`now() - interval '30 minutes'` },
    ]);

    const removed = await sweepExpired(t.db);
    expect(removed).toMatchObject({ challenges: 1, trustedBrowsers: 1, sessions: 2, rateLimits: 1 });
    expect((await t.db.select().from(signInChallenges).where(eq(signInChallenges.userId, user.id))).map((r) => r.tokenHash)).toEqual(["live-challenge"]);
    expect((await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, user.id))).map((r) => r.tokenHash)).toEqual(["live-trust"]);
    expect((await t.db.select().from(sessions).where(eq(sessions.userId, user.id))).map((r) => r.sid)).toEqual(["live-session"]);
    const keys = (await t.db.select().from(rateLimits)).map((r) => r.key);
    expect(keys).toContain(`live:${user.id}`);
    expect(keys).not.toContain(`old:${user.id}`);
  });

  it("deletes audit events older than AUDIT_RETENTION_DAYS (400 by default), in batches, and keeps them all with 0", async () => {
    const user = await newUser(t.db);
    const before = process.env.AUDIT_RETENTION_DAYS;
    const daysAgo = (days: number) => sql`now() - make_interval(days => ${days})`;
    // This test's events only (newUser records its own).
    const events = async () => {
      const rows = await t.db.select({ event: auditEvents.event }).from(auditEvents).where(eq(auditEvents.targetUserId, user.id));
      return rows.map((r) => r.event).filter((e) => ["old", "kept", "recent"].includes(e)).sort();
    };
    try {
      // More old events than one batch (5 000), so the sweep has to come back for the rest.
      await t.db.execute(sql`
        insert into audit_events (event, target_user_id, at)
        select 'old', ${user.id}, now() - interval '401 days' - make_interval(secs => g) from generate_series(1, 5003) as g`);
      await t.db.insert(auditEvents).values([
        { event: "kept", targetUserId: user.id, at: daysAgo(399) },
        { event: "recent", targetUserId: user.id, at: daysAgo(10) },
      ]);

      process.env.AUDIT_RETENTION_DAYS = "0";
      expect((await sweepExpired(t.db)).auditEvents).toBe(0);
      expect(await events()).toHaveLength(5005);

      delete process.env.AUDIT_RETENTION_DAYS;
      expect((await sweepExpired(t.db)).auditEvents).toBe(5003);
      expect(await events()).toEqual(["kept", "recent"]);

      process.env.AUDIT_RETENTION_DAYS = "30";
      expect((await sweepExpired(t.db)).auditEvents).toBe(1);
      expect(await events()).toEqual(["recent"]);
    } finally {
      if (before === undefined) delete process.env.AUDIT_RETENTION_DAYS;
      else process.env.AUDIT_RETENTION_DAYS = before;
    }
  });
});
