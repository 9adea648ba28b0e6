import "server-only";
import { eq } from "drizzle-orm";
import type { Database } from "@/db";
import { users } from "@/db/schema";
import type { RequestContext } from "@/lib/audit";
import { findChallenge } from "@/lib/auth/challenge";
import { confirmEnrollment, startEnrollment, type EnrollmentError } from "@/lib/two-factor/enrollment";

export type SignInEnrollmentError = EnrollmentError | "challenge_expired";

/** The live "enroll" challenge of this token, with its user: whoever holds it passed the password step. */
async function enrollChallenge(db: Database, token: string) {
  const challenge = await findChallenge(db, token);
  if (challenge?.purpose !== "enroll") return null;
  const [user] = await db.select({ id: users.id, email: users.email }).from(users).where(eq(users.id, challenge.userId));
  return user ? { user, challengeHash: challenge.tokenHash } : null;
}

/**
 * Forced enrollment at sign-in, step 1: a pending secret bound to this very
 * challenge. Another challenge of the same user (a password holder's, or the
 * owner's other tab) and My Settings cannot confirm it, nor it theirs.
 */
export async function startSignInEnrollment(
  db: Database,
  token: string,
): Promise<{ ok: true; secret: string; uri: string } | { ok: false; error: SignInEnrollmentError }> {
  const found = await enrollChallenge(db, token);
  if (!found) return { ok: false, error: "challenge_expired" };
  const started = await startEnrollment(db, found.user, { challengeHash: found.challengeHash });
  // An "enroll" challenge belongs to a user without a factor; one who has a key meanwhile starts over at the password.
  return !started.ok && started.error === "confirmation_required" ? { ok: false, error: "challenge_expired" } : started;
}

/**
 * Step 2: the code confirms the enrollment this challenge started; the
 * "enroll" challenge ends and the returned "enrolled" one finishes the
 * sign-in (after the recovery codes were downloaded) without another code.
 */
export async function confirmSignInEnrollment(
  db: Database,
  token: string,
  code: string,
  context: RequestContext,
): Promise<{ ok: true; recoveryCodes: string[]; challenge: string } | { ok: false; error: SignInEnrollmentError }> {
  const found = await enrollChallenge(db, token);
  if (!found) return { ok: false, error: "challenge_expired" };
  const result = await confirmEnrollment(db, found.user.id, code, context, { challengeHash: found.challengeHash });
  if (!result.ok) return { ok: false, error: result.error === "confirmation_required" ? "challenge_expired" : result.error };
  return { ok: true, recoveryCodes: result.recoveryCodes, challenge: result.challenge! };
}
