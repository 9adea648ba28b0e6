import "server-only";
import { and, desc, eq, gt, isNull, notInArray, sql } from "drizzle-orm";
import type { Database, Executor } from "@/db";
import { sessions, signInChallenges, webauthnChallenges } from "@/db/schema";
import { randomToken } from "@/lib/crypto";
import { WEBAUTHN_CHALLENGE_SECONDS } from "./relying-party";

/**
 * Where a WebAuthn challenge belongs: the signed-in session adding a key
 * ("register") or confirming a change with one ("step_up"), or the pending
 * sign-in using one.
 */
export type ChallengeOwner =
  | { purpose: "register" | "step_up"; userId: string; sessionId: string }
  | { purpose: "sign_in"; userId: string; signInChallengeHash: string }
  | PasskeyOwner;
/** A passkey sign-in's challenge belongs to no one yet: to the browser whose cookie holds it (`challenge`). */
export type PasskeyOwner = { purpose: "passkey"; challenge: string };

/** Prompts one owner may have open at once (a double click, a second tab); older ones are dropped. */
const LIVE_PER_OWNER = 5;

function ownedBy(owner: ChallengeOwner) {
  if (owner.purpose === "passkey") return and(eq(webauthnChallenges.purpose, "passkey"), eq(webauthnChallenges.challenge, owner.challenge), isNull(webauthnChallenges.userId));
  const belongs =
    owner.purpose === "sign_in" ? eq(webauthnChallenges.signInChallengeHash, owner.signInChallengeHash) : eq(webauthnChallenges.sessionId, owner.sessionId);
  return and(eq(webauthnChallenges.userId, owner.userId), eq(webauthnChallenges.purpose, owner.purpose), belongs);
}

/**
 * A new single-use challenge (256 random bits, base64url) for the browser to
 * sign. Asking again and again cannot fill the table: beyond the newest few,
 * the owner's earlier challenges are dropped — under a lock of the owner's
 * row (the pending sign-in, or the session), so that a burst of parallel
 * requests trims and inserts one at a time. Null when that row is gone: the
 * sign-in ended, or the session was signed out.
 */
export async function issueWebauthnChallenge(db: Database, owner: Exclude<ChallengeOwner, PasskeyOwner>): Promise<string | null> {
  return db.transaction(async (tx) => {
    const anchor =
      owner.purpose === "sign_in"
        ? tx.select({ id: signInChallenges.tokenHash }).from(signInChallenges).where(and(eq(signInChallenges.tokenHash, owner.signInChallengeHash), eq(signInChallenges.userId, owner.userId)))
        : tx.select({ id: sessions.sid }).from(sessions).where(and(eq(sessions.sid, owner.sessionId), eq(sessions.userId, owner.userId)));
    const [held] = await anchor.for("update");
    if (!held) return null;
    const newest = tx
      .select({ challenge: webauthnChallenges.challenge })
      .from(webauthnChallenges)
      .where(ownedBy(owner))
      .orderBy(desc(webauthnChallenges.expiresAt))
      .limit(LIVE_PER_OWNER - 1);
    await tx.delete(webauthnChallenges).where(and(ownedBy(owner), notInArray(webauthnChallenges.challenge, newest)));
    const challenge = randomToken(32);
    await tx.insert(webauthnChallenges).values({
      challenge,
      userId: owner.userId,
      purpose: owner.purpose,
      sessionId: owner.purpose === "sign_in" ? null : owner.sessionId,
      signInChallengeHash: owner.purpose === "sign_in" ? owner.signInChallengeHash : null,
      expiresAt: sql`now() + make_interval(secs => ${WEBAUTHN_CHALLENGE_SECONDS})`,
    });
    return challenge;
  });
}

/**
 * A passkey sign-in's challenge, before anyone is known. The caller limits
 * how often one address may ask (lib/security-keys/passkey-sign-in.ts) and
 * keeps it in the browser's cookie; unused ones are swept when expired.
 */
export async function issuePasskeyChallenge(db: Executor): Promise<string> {
  const challenge = randomToken(32);
  await db.insert(webauthnChallenges).values({ challenge, userId: null, purpose: "passkey", expiresAt: sql`now() + make_interval(secs => ${WEBAUTHN_CHALLENGE_SECONDS})` });
  return challenge;
}

/**
 * Takes the challenge the browser signed, if it is live and belongs to this
 * owner: one DELETE … RETURNING, so of parallel replays exactly one gets
 * true, and any challenge is judged at most once, whatever the verdict.
 */
export async function claimWebauthnChallenge(db: Executor, challenge: string, owner: ChallengeOwner): Promise<boolean> {
  if (!challenge || challenge.length > 100) return false;
  const claimed = await db
    .delete(webauthnChallenges)
    .where(and(eq(webauthnChallenges.challenge, challenge), ownedBy(owner), gt(webauthnChallenges.expiresAt, sql`now()`)))
    .returning({ challenge: webauthnChallenges.challenge });
  return claimed.length === 1;
}
