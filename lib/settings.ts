import "server-only";
import { eq } from "drizzle-orm";
import type { Executor } from "@/db";
import { instanceSettings, type InstanceSettings } from "@/db/schema";

/** The instance settings row, created with defaults on first read. */
export async function getSettings(db: Executor): Promise<InstanceSettings> {
  const [row] = await db.select().from(instanceSettings).where(eq(instanceSettings.id, 1));
  if (row) return row;
  await db.insert(instanceSettings).values({ id: 1 }).onConflictDoNothing();
  const [created] = await db.select().from(instanceSettings).where(eq(instanceSettings.id, 1));
  return created;
}
