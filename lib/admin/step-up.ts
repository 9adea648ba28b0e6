import "server-only";
import { and, eq, gt, sql } from "drizzle-orm";
import type { Database } from "@/db";
import { totpCredentials, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { verifyPassword } from "@/lib/auth/password";
import { verifyCurrentCode } from "@/lib/two-factor/current-code";

/** An admin who confirmed within this window is not asked again. */
export const STEP_UP_WINDOW_SECONDS = 5 * 60;

export type StepUpMethod = "code" | "password";

/** How this admin confirms: a current code when they have 2FA, else their password. */
export async function stepUpMethod(db: Database, adminId: string): Promise<StepUpMethod> {
  const [row] = await db
    .select({ enabledAt: totpCredentials.enabledAt })
    .from(totpCredentials)
    .where(eq(totpCredentials.userId, adminId));
  return row?.enabledAt ? "code" : "password";
}

export async function isRecentlyConfirmed(db: Database, adminId: string): Promise<boolean> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(
      and(eq(users.id, adminId), gt(users.reauthenticatedAt, sql`now() - make_interval(secs => ${STEP_UP_WINDOW_SECONDS})`)),
    );
  return rows.length === 1;
}

/**
 * Re-confirms the admin before a sensitive change. A code is single-use and
 * counts toward the admin's own lockout, like at sign-in; a wrong password is
 * audited. Returns "ok", "invalid" or "locked_out".
 */
export async function confirmAdmin(
  db: Database,
  adminId: string,
  secret: string,
  context: RequestContext,
): Promise<"ok" | "invalid" | "locked_out"> {
  const method = await stepUpMethod(db, adminId);
  if (method === "code") {
    const verdict = await verifyCurrentCode(db, adminId, secret.replace(/\s/g, ""), context);
    if (verdict === "locked_out") return "locked_out";
    if (verdict !== "ok") return "invalid";
  } else {
    const [admin] = await db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, adminId));
    if (!(await verifyPassword(admin?.passwordHash ?? null, secret))) {
      await recordEvent(db, "sign_in.password_failed", { actorUserId: adminId, targetUserId: adminId }, context, { during: "step_up" });
      return "invalid";
    }
  }
  await db.update(users).set({ reauthenticatedAt: sql`now()` }).where(eq(users.id, adminId));
  return "ok";
}
