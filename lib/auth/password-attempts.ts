import "server-only";
import { eq } from "drizzle-orm";
import type { Executor } from "@/db";
import { users } from "@/db/schema";
import { verifyPassword } from "@/lib/auth/password";
import { clearFailures, reserveFailure, type FailurePolicy } from "@/lib/auth/password-failures";

/**
 * A signed-in session typing its own password (Change password, the admin's
 * Password confirmation): one counter for both, so a stolen session cannot
 * guess 10 through one door and 10 more through the other. Far below the
 * sign-in allowance: the owner of a session knows the password, and a thief
 * must not turn the session into a guessing oracle.
 */
export const SIGNED_IN_PASSWORD_FAILURES = 10;
const SIGNED_IN_POLICY: FailurePolicy = { first: SIGNED_IN_PASSWORD_FAILURES, afterLock: 3 };

export type OwnPasswordVerdict = "ok" | "wrong_password" | "rate_limited" | "not_found";

/**
 * Checks the password of the signed-in user `userId`. The failure is counted
 * before the hash is checked (parallel attempts cannot pass the limit); when
 * limited the password is not checked at all, and even the right one is
 * refused. A right one forgets the earlier failures.
 */
export async function verifyOwnPassword(db: Executor, userId: string, password: string): Promise<OwnPasswordVerdict> {
  const [user] = await db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, userId));
  if (!user) return "not_found";
  const counter = { userId, counter: "signed-in" };
  if (!(await reserveFailure(db, counter, SIGNED_IN_POLICY))) return "rate_limited";
  if (!(await verifyPassword(user.passwordHash, password))) return "wrong_password";
  await clearFailures(db, counter);
  return "ok";
}
