import "server-only";
import type { Database } from "@/db";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { endSessions } from "@/lib/two-factor/enrollment";

/** Sign out everywhere: every session of the user ends, this one included. */
export async function signOutEverywhere(db: Database, userId: string, context: RequestContext): Promise<void> {
  await db.transaction(async (tx) => {
    await endSessions(tx, userId);
    await recordEvent(tx, "sessions.ended", { actorUserId: userId, targetUserId: userId }, context);
  });
}
