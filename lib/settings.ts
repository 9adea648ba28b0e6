import "server-only";
import { and, eq, ne, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { instanceSettings, type InstanceSettings } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";

/** The instance settings row, created with defaults on first read. */
export async function getSettings(db: Executor): Promise<InstanceSettings> {
  const [row] = await db.select().from(instanceSettings).where(eq(instanceSettings.id, 1));
  if (row) return row;
  await db.insert(instanceSettings).values({ id: 1 }).onConflictDoNothing();
  const [created] = await db.select().from(instanceSettings).where(eq(instanceSettings.id, 1));
  return created;
}

/**
 * Turns two-factor sign-in on or off for the whole instance, with its
 * "settings.changed" audit entry in the same transaction. `changed` is false
 * (and nothing is recorded) when it already was so; of two concurrent
 * identical changes, exactly one records the event.
 */
export async function setTwoFactorEnabled(
  db: Executor,
  enabled: boolean,
  actorUserId: string | null,
  context: RequestContext,
  details: Record<string, string> = {},
): Promise<{ changed: boolean }> {
  return db.transaction(async (tx) => {
    await getSettings(tx);
    const updated = await tx
      .update(instanceSettings)
      .set({ twoFactorEnabled: enabled, updatedAt: sql`now()` })
      .where(and(eq(instanceSettings.id, 1), ne(instanceSettings.twoFactorEnabled, enabled)))
      .returning({ id: instanceSettings.id });
    if (updated.length === 0) return { changed: false };
    await recordEvent(tx, "settings.changed", { actorUserId }, context, { twoFactorEnabled: enabled, ...details });
    return { changed: true };
  });
}
