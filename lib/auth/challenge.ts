import "server-only";
import { and, eq, gt, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { signInChallenges } from "@/db/schema";
import { randomToken, sha256Hex } from "@/lib/crypto";

/** How long the second step may wait after the password step. */
export const CHALLENGE_TTL_SECONDS = 5 * 60;
export const CHALLENGE_COOKIE = "signin-challenge";

export type ChallengePurpose = "sign_in" | "enroll";

/**
 * Records that `userId` passed the password step and returns the random
 * token for the browser's cookie. Only its SHA-256 is stored.
 */
export async function createChallenge(db: Executor, userId: string, purpose: ChallengePurpose): Promise<string> {
  const token = randomToken(32);
  // Expired challenges are deleted by the hourly sweep (lib/maintenance.ts), not here on the sign-in path.
  await db.insert(signInChallenges).values({
    tokenHash: sha256Hex(token),
    userId,
    purpose,
    expiresAt: sql`now() + make_interval(secs => ${CHALLENGE_TTL_SECONDS})`,
  });
  return token;
}

/** The live challenge for a token, or null (unknown, expired or used). */
export async function findChallenge(db: Executor, token: string) {
  if (!token || token.length > 100) return null;
  const [row] = await db
    .select()
    .from(signInChallenges)
    .where(and(eq(signInChallenges.tokenHash, sha256Hex(token)), gt(signInChallenges.expiresAt, sql`now()`)));
  return row ?? null;
}

/**
 * Deletes the challenge and says whether this call was the one that did:
 * of several parallel requests with the same challenge, exactly one gets true.
 */
export async function consumeChallenge(db: Executor, token: string): Promise<boolean> {
  const deleted = await db
    .delete(signInChallenges)
    .where(and(eq(signInChallenges.tokenHash, sha256Hex(token)), gt(signInChallenges.expiresAt, sql`now()`)))
    .returning({ userId: signInChallenges.userId });
  return deleted.length === 1;
}
