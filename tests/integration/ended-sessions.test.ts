import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { endedSessions, users } from "@/db/schema";
import { endSession, sessionEnded } from "@/lib/auth/ended-sessions";
import { testDrivers, useTestDatabase } from "./support/databases";
import { newUser } from "./support/fixtures";

describe.each(testDrivers())("ended sessions on %s", (driver) => {
  const t = useTestDatabase(driver);
  const isEnded = async (userId: string, sessionId: string) => {
    const [row] = await t.db.select({ ended: sessionEnded(sessionId) }).from(users).where(eq(users.id, userId));
    return row.ended;
  };

  it("a signed-out session is seen as ended by the per-request check; others of the user are not", async () => {
    const user = await newUser(t.db);
    await endSession(t.db, "session-a", user.id, new Date(Date.now() + 3600_000));
    expect(await isEnded(user.id, "session-a")).toBe(true);
    expect(await isEnded(user.id, "session-b")).toBe(false);
    // Signing out twice (two tabs) is not an error.
    await endSession(t.db, "session-a", user.id, new Date(Date.now() + 3600_000));
  });

  it("forgets entries once the session would have expired anyway (the list stays short)", async () => {
    const user = await newUser(t.db);
    await t.db.insert(endedSessions).values({ sessionId: "long-gone", userId: user.id, expiresAt: sql`now() - interval '1 minute'` });
    await endSession(t.db, "fresh", user.id, new Date(Date.now() + 3600_000));
    const left = await t.db.select({ id: endedSessions.sessionId }).from(endedSessions).where(eq(endedSessions.userId, user.id));
    expect(left.map((r) => r.id)).toEqual(["fresh"]);
  });
});
