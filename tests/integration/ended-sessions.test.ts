import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { users } from "@/db/schema";
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

});
