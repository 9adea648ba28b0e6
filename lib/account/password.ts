import "server-only";
import { eq } from "drizzle-orm";
import type { Database } from "@/db";
import { users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { hashPassword } from "@/lib/auth/password";
import { notifyPasswordChanged } from "@/lib/notifications/notify";
import { verifyOwnPassword, type OwnPasswordVerdict } from "@/lib/auth/password-attempts";
import { endSessions } from "@/lib/two-factor/enrollment";
import { forgetTrustedBrowsers } from "@/lib/two-factor/trusted-browsers";

export type PasswordChangeResult = { ok: true; sessionVersion: number } | Exclude<OwnPasswordVerdict, "ok">;

/**
 * Replaces the user's password after checking the current one. Every session
 * and every trusted browser of the user ends with it (a password change is
 * what people do when they fear someone else has it); the caller re-issues
 * its own session. The owner is told by mail.
 */
export async function changePassword(
  db: Database,
  userId: string,
  currentPassword: string,
  newPassword: string,
  context: RequestContext,
): Promise<PasswordChangeResult> {
  // A stolen session must not become a password-guessing oracle: the current password is limited.
  const verdict = await verifyOwnPassword(db, userId, currentPassword);
  if (verdict !== "ok") return verdict;
  const passwordHash = await hashPassword(newPassword);
  const sessionVersion = await db.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash, passwordChangedAt: new Date() }).where(eq(users.id, userId));
    const version = await endSessions(tx, userId);
    await forgetTrustedBrowsers(tx, userId, null, userId, context, "password_changed");
    await recordEvent(tx, "password.changed", { actorUserId: userId, targetUserId: userId }, context);
    return version;
  });
  await notifyPasswordChanged(db, userId, context);
  return { ok: true, sessionVersion };
}
