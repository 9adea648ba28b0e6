import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { rateLimits, sessions, signInChallenges, trustedBrowsers } from "@/db/schema";
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
});
