import "server-only";
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "@/db";
import { instanceSettings, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { randomToken, safeEqual, sha256Hex } from "@/lib/crypto";
import { getSettings } from "@/lib/settings";
import { createUser, type NewUser } from "@/lib/users";

/**
 * First run: with no user at all, a fresh one-time setup token (only its hash
 * stored). Returns null when users exist. A new token at each start replaces
 * the previous one, so only the most recently printed link works.
 */
export async function issueSetupToken(db: Database): Promise<string | null> {
  await getSettings(db);
  const [{ n }] = await db.select({ n: sql<number>`count(*)::int` }).from(users);
  if (n > 0) return null;
  const token = randomToken(24);
  await db.update(instanceSettings).set({ setupTokenHash: sha256Hex(token) }).where(eq(instanceSettings.id, 1));
  return token;
}

/**
 * Creates the first administrator if `token` is the current setup token and
 * no user exists yet; the token is consumed in the same transaction.
 */
export async function completeSetup(
  db: Database,
  token: string,
  input: Omit<NewUser, "admin">,
  context: RequestContext,
): Promise<"ok" | "invalid_token" | "email_taken"> {
  if (!token || token.length > 200) return "invalid_token";
  return db.transaction(async (tx) => {
    // Consuming the token row first serialises concurrent setups: the loser finds no token.
    const consumed = await tx
      .update(instanceSettings)
      .set({ setupTokenHash: null })
      .where(and(eq(instanceSettings.id, 1), eq(instanceSettings.setupTokenHash, sha256Hex(token))))
      .returning({ id: instanceSettings.id });
    if (consumed.length !== 1) return "invalid_token";
    const [{ n }] = await tx.select({ n: sql<number>`count(*)::int` }).from(users);
    if (n > 0) return "invalid_token";
    const created = await createUser(tx, { ...input, admin: true }, null, context);
    if (!created.ok) return "email_taken";
    await recordEvent(tx, "setup.completed", { actorUserId: created.id, targetUserId: created.id }, context);
    return "ok";
  });
}

export async function isSetupPending(db: Database, token: string): Promise<boolean> {
  if (!token || token.length > 200) return false;
  const settings = await getSettings(db);
  return !!settings.setupTokenHash && safeEqual(settings.setupTokenHash, sha256Hex(token));
}
