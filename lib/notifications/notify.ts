import "server-only";
import { and, count, eq, isNull } from "drizzle-orm";
import type { Database } from "@/db";
import { recoveryCodes, users } from "@/db/schema";
import type { RequestContext } from "@/lib/audit";
import { mailSettings } from "@/lib/env";
import { claimCodeRefusedMail, releaseCodeRefusedMail } from "./code-refused-limit";
import { runAfterResponse } from "./deliver";
import { buildMail, plainLine, type AdministratorNotice, type Notice, type NoticeKind } from "./messages";
import { sendMail } from "./transport";

/**
 * Security notices by mail. Call each after the transaction that made the
 * change has committed. With SMTP_URL unset they return at once and touch
 * nothing; otherwise the work (look-ups, the send) runs after the response
 * (lib/notifications/deliver.ts) and never throws.
 */

/** The account holder: a user id (looked up when the job runs), or the row the caller already has. */
type To = string | { id: string; name: string; email: string };
type Send = (notice: Notice) => Promise<void>;

export function notifyTwoFactorEnabled(db: Database, userId: string, context: RequestContext): Promise<void> {
  return notifyWith(db, userId, context, "two_factor_enabled", (send) => send({ kind: "two_factor_enabled" }));
}

export function notifyTwoFactorDisabled(db: Database, userId: string, context: RequestContext): Promise<void> {
  return notifyWith(db, userId, context, "two_factor_disabled", (send) => send({ kind: "two_factor_disabled" }));
}

/**
 * `user` as it was when the admin acted: should the same edit change the
 * email, the notice goes to the address the account holder had.
 */
export function notifyTwoFactorRemoved(db: Database, user: To, context: RequestContext, by: "admin" | "cli"): Promise<void> {
  return notifyWith(db, user, context, "two_factor_removed", (send) => send({ kind: "two_factor_removed", by }));
}

export function notifyRecoveryCodesRegenerated(db: Database, userId: string, context: RequestContext): Promise<void> {
  return notifyWith(db, userId, context, "recovery_codes_regenerated", (send) => send({ kind: "recovery_codes_regenerated" }));
}

/** Counts the codes left when the job runs, off the sign-in's path. */
export function notifyRecoveryCodeUsed(db: Database, user: To, context: RequestContext): Promise<void> {
  return notifyWith(db, user, context, "recovery_code_used", async (send) => {
    const [row] = await db
      .select({ left: count() })
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.userId, idOf(user)), isNull(recoveryCodes.usedAt)));
    await send({ kind: "recovery_code_used", codesLeft: row?.left ?? 0 });
  });
}

/**
 * A code refused after a correct password: at most one mail an hour per user,
 * claimed in the database so that every instance and every parallel guess
 * agrees (lib/notifications/code-refused-limit.ts).
 */
export function notifyCodeRefused(db: Database, userId: string, context: RequestContext, locked: boolean): Promise<void> {
  return notifyWith(db, userId, context, "code_refused", async (send) => {
    if (!(await claimCodeRefusedMail(db, userId))) return;
    try {
      await send({ kind: "code_refused", locked });
    } catch (error) {
      await releaseCodeRefusedMail(db, userId);
      throw error;
    }
  });
}

export function notifyBrowserTrusted(db: Database, user: To, context: RequestContext, days: number): Promise<void> {
  return notifyWith(db, user, context, "browser_trusted", (send) => send({ kind: "browser_trusted", days }));
}

export function notifySecurityKeyAdded(db: Database, userId: string, name: string, context: RequestContext): Promise<void> {
  return notifyWith(db, userId, context, "security_key_added", (send) => send({ kind: "security_key_added", name }));
}

/** `actorId`: the administrator who removed it in User properties; absent, the owner did in My Settings. */
export function notifySecurityKeyRemoved(db: Database, userId: string, name: string, context: RequestContext, actorId?: string): Promise<void> {
  return notifyWith(db, userId, context, "security_key_removed", async (send) =>
    send(actorId === undefined ? { kind: "security_key_removed", name } : { kind: "security_key_removed", name, by: await findActorName(db, actorId) }),
  );
}

export function notifyPasswordChanged(db: Database, userId: string, context: RequestContext): Promise<void> {
  return notifyWith(db, userId, context, "password_changed", (send) => send({ kind: "password_changed" }));
}

/**
 * An administrator (`actorId`; null: the CLI) changed the account's email.
 * `previous` is the account as it was: the notice goes to the old address,
 * the one its owner still reads, and names the new one.
 */
export function notifyEmailChanged(db: Database, previous: To, newEmail: string, actorId: string | null, context: RequestContext): Promise<void> {
  return notifyWith(db, previous, context, "email_changed", async (send) => send({ kind: "email_changed", to: newEmail, by: await findActorName(db, actorId) }));
}

/** An administrator (`actorId`; null: the CLI) made the user an administrator (`admin`) or took the role away. */
export function notifyRoleChanged(db: Database, user: To, admin: boolean, actorId: string | null, context: RequestContext): Promise<void> {
  return notifyWith(db, user, context, "role_changed", async (send) => send({ kind: "role_changed", admin, by: await findActorName(db, actorId) }));
}

/**
 * A change that weakens sign-in for everyone (two-factor login off, a new
 * administrator): every administrator is told, the one who made it too —
 * theirs may be the stolen session. The text names that administrator
 * (`actorId`; null: the CLI).
 */
export function notifyAdministrators(db: Database, notice: AdministratorNotice, actorId: string | null, context: RequestContext): Promise<void> {
  const settings = mailSettings();
  if (!settings) return Promise.resolve();
  const occurrence = { at: new Date(), ip: context.ip, userAgent: context.userAgent };
  return runAfterResponse(`${notice.kind} for the administrators`, async () => {
    const by = await findActorName(db, actorId);
    const admins = await db.select({ name: users.name, email: users.email }).from(users).where(eq(users.role, "admin"));
    const sent = await Promise.allSettled(
      admins.map((admin) => {
        const name = plainLine(admin.name, 100);
        return sendMail(settings, { name, email: admin.email }, buildMail({ ...notice, by }, name, occurrence));
      }),
    );
    // Every administrator was tried; the first failure is what gets logged.
    const failed = sent.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
  });
}

async function notifyWith(db: Database, to: To, context: RequestContext, kind: NoticeKind, job: (send: Send) => Promise<void>): Promise<void> {
  const settings = mailSettings();
  if (!settings) return;
  const occurrence = { at: new Date(), ip: context.ip, userAgent: context.userAgent };
  // The log names the user by id: an address in a log is personal data it does not need.
  await runAfterResponse(`${kind} for user ${idOf(to)}`, async () => {
    const recipient = typeof to === "string" ? await findRecipient(db, to) : to;
    if (!recipient) return; // deleted meanwhile
    const name = plainLine(recipient.name, 100);
    await job((notice) => sendMail(settings, { name, email: recipient.email }, buildMail(notice, name, occurrence)));
  });
}

function idOf(to: To): string {
  return typeof to === "string" ? to : to.id;
}

/** The acting administrator's name, read when the mail is built; null for the command line. */
async function findActorName(db: Database, actorId: string | null): Promise<string | null> {
  if (actorId === null) return null;
  const [actor] = await db.select({ name: users.name }).from(users).where(eq(users.id, actorId));
  return actor?.name ?? "(since deleted)";
}

async function findRecipient(db: Database, userId: string): Promise<{ name: string; email: string } | null> {
  const [row] = await db.select({ name: users.name, email: users.email }).from(users).where(eq(users.id, userId));
  return row ?? null;
}
