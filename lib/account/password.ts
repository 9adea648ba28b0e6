import "server-only";
import { eq } from "drizzle-orm";
import type { Database } from "@/db";
import { users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import { isRateLimited, recordFailure, type RateLimit } from "@/lib/rate-limit";
import { endSessions } from "@/lib/two-factor/enrollment";
import { forgetTrustedBrowsers } from "@/lib/two-factor/trusted-browsers";

export type PasswordChangeResult = "ok" | "wrong_password" | "rate_limited" | "not_found";

// A stolen session must not become a password-guessing oracle: the current password is limited like sign-in.
const limitsFor = (userId: string): RateLimit[] => [{ key: `password-change:${userId}`, limit: 10, windowSeconds: 3600 }];

/**
 * Replaces the user's password after checking the current one. Every session
 * and every trusted browser of the user ends with it (a password change is
 * what people do when they fear someone else has it); the caller re-issues
 * its own session.
 */
export async function changePassword(
  db: Database,
  userId: string,
  currentPassword: string,
  newPassword: string,
  context: RequestContext,
): Promise<PasswordChangeResult> {
  const limits = limitsFor(userId);
  if (await isRateLimited(db, limits)) return "rate_limited";
  const [user] = await db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, userId));
  if (!user) return "not_found";
  if (!(await verifyPassword(user.passwordHash, currentPassword))) {
    await recordFailure(db, limits);
    return "wrong_password";
  }
  const passwordHash = await hashPassword(newPassword);
  await db.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash, passwordChangedAt: new Date() }).where(eq(users.id, userId));
    await endSessions(tx, userId);
    await forgetTrustedBrowsers(tx, userId, null, userId, context, "password_changed");
    await recordEvent(tx, "password.changed", { actorUserId: userId, targetUserId: userId }, context);
  });
  return "ok";
}
