import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { endedSessions, rateLimits, signInChallenges, trustedBrowsers } from "@/db/schema";
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
    await t.db.insert(endedSessions).values([
      { sessionId: "old-session", userId: user.id, expiresAt: past },
      { sessionId: "live-session", userId: user.id, expiresAt: future },
    ]);
    await t.db.insert(rateLimits).values([
      { key: `old:${user.id}`, count: 3, windowStartedAt: sql`now() - interval '2 days'` },
      { key: `live:${user.id}`, count: 3, windowStartedAt: sql`now() - interval '30 minutes'` },
    ]);

    const removed = await sweepExpired(t.db);
    expect(removed).toMatchObject({ challenges: 1, trustedBrowsers: 1, endedSessions: 1, rateLimits: 1 });
    expect((await t.db.select().from(signInChallenges).where(eq(signInChallenges.userId, user.id))).map((r) => r.tokenHash)).toEqual(["live-challenge"]);
    expect((await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, user.id))).map((r) => r.tokenHash)).toEqual(["live-trust"]);
    expect((await t.db.select().from(endedSessions).where(eq(endedSessions.userId, user.id))).map((r) => r.sessionId)).toEqual(["live-session"]);
    const keys = (await t.db.select().from(rateLimits)).map((r) => r.key);
    expect(keys).toContain(`live:${user.id}`);
    expect(keys).not.toContain(`old:${user.id}`);
  });
});
