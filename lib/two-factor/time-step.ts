import "server-only";
import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { Executor } from "@/db";
import { totpCredentials } from "@/db/schema";

/**
 * RFC 6238 §5.2 "accept a code once", as one compare-and-set: of several
 * requests carrying codes of the same (or an older) step, only one moves
 * `lastUsedStep` forward and gets true.
 */
export async function consumeTimeStep(db: Executor, userId: string, step: number): Promise<boolean> {
  const rows = await db
    .update(totpCredentials)
    .set({ lastUsedStep: step })
    .where(
      and(
        eq(totpCredentials.userId, userId),
        or(isNull(totpCredentials.lastUsedStep), lt(totpCredentials.lastUsedStep, step)),
      ),
    )
    .returning({ userId: totpCredentials.userId });
  return rows.length === 1;
}
