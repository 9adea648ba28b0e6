import "server-only";
import { and, eq, gt, sql, type SQL } from "drizzle-orm";
import type { Executor } from "@/db";
import { signInChallenges, users } from "@/db/schema";
import { preparedRawStatement } from "@/db/prepared";
import { randomToken, sha256Hex } from "@/lib/crypto";

/** How long the second step may wait after the password step. */
export const CHALLENGE_TTL_SECONDS = 5 * 60;
export const CHALLENGE_COOKIE = "signin-challenge";

/** See `signInChallenges.purpose` in db/schema.ts. */
export type ChallengePurpose = "sign_in" | "enroll" | "enrolled";

/** The account as the password step read it: a challenge is opened only if it is still so. */
export type AccountSnapshot = { passwordHash: string; sessionVersion: number };

/**
 * Records that `userId` passed the password step and returns the random
 * token for the browser's cookie. Only its SHA-256 is stored. With `as`, the
 * row is written only while the user's password hash and session version are
 * still the ones the password was checked against (one INSERT … SELECT): a
 * password step still verifying the old password when the owner changes it
 * (or signs out everywhere) opens nothing; null then. FOR SHARE makes the
 * insert wait for a change in flight and re-check it once committed: without
 * it, a challenge inserted after the change's UPDATE (whose trigger already
 * ended the user's challenges) but before its commit would survive.
 */
export async function createChallenge(db: Executor, userId: string, purpose: ChallengePurpose, as?: AccountSnapshot): Promise<string | null> {
  const token = randomToken(32);
  const values = { tokenHash: sha256Hex(token), userId, purpose };
  // Expired challenges are deleted by the hourly sweep (lib/maintenance.ts), not here on the sign-in path.
  const rows = as
    ? await insertIfUnchanged(db).run({ ...values, passwordHash: as.passwordHash, sessionVersion: as.sessionVersion })
    : await insertChallenge(db).run(values);
  return rows.length === 1 ? token : null;
}

// Prepared (db/prepared.ts): every password step sends one.
const insertFor = (unchanged: SQL) => sql`
  insert into ${signInChallenges} (token_hash, user_id, purpose, expires_at)
  select ${sql.placeholder("tokenHash")}, ${users.id}, ${sql.placeholder("purpose")}, now() + make_interval(secs => ${CHALLENGE_TTL_SECONDS})
  from ${users} where ${users.id} = ${sql.placeholder("userId")} ${unchanged}
  returning user_id`;
const insertChallenge = preparedRawStatement<{ user_id: string }>("insert_challenge", insertFor(sql``));
const insertIfUnchanged = preparedRawStatement<{ user_id: string }>(
  "insert_challenge_if_unchanged",
  insertFor(sql`and ${users.passwordHash} = ${sql.placeholder("passwordHash")} and ${users.sessionVersion} = ${sql.placeholder("sessionVersion")} for share`),
);

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
