import "server-only";
import { and, count, eq, ne } from "drizzle-orm";
import type { Database, Executor } from "@/db";
import { totpCredentials, trustedBrowsers, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { hasAnotherAdmin } from "@/lib/admin/set-user-role";
import { notifyTwoFactorRemoved } from "@/lib/notifications/notify";
import { endSessions, removeTwoFactor } from "@/lib/two-factor/enrollment";

/** What the User properties dialog shows. Never a secret or a code. */
export type UserProperties = {
  id: string;
  name: string;
  email: string;
  admin: boolean;
  twoFactorEnabled: boolean;
  twoFactorRequired: boolean;
  trustedBrowsers: number;
};

export async function getUserProperties(db: Executor, userId: string): Promise<UserProperties | null> {
  const [row] = await db
    .select({
      id: users.id,
      name: users.name,
      email: users.email,
      role: users.role,
      required: users.twoFactorRequired,
      enabledAt: totpCredentials.enabledAt,
    })
    .from(users)
    .leftJoin(totpCredentials, eq(totpCredentials.userId, users.id))
    .where(eq(users.id, userId));
  if (!row) return null;
  const [browsers] = await db.select({ n: count() }).from(trustedBrowsers).where(eq(trustedBrowsers.userId, userId));
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    admin: row.role === "admin",
    twoFactorEnabled: !!row.enabledAt,
    twoFactorRequired: row.required,
    trustedBrowsers: browsers.n,
  };
}

export type PropertiesInput = { name: string; email: string; admin: boolean; twoFactorEnabled: boolean };
export type PropertiesError = "not_found" | "email_taken" | "last_admin";

/** Does this edit touch security (role or second factor)? Those need the admin's fresh confirmation. */
export function isSensitiveChange(current: UserProperties, input: PropertiesInput): boolean {
  const twoFactorOn = current.twoFactorEnabled || current.twoFactorRequired;
  return current.admin !== input.admin || twoFactorOn !== input.twoFactorEnabled;
}

/**
 * Applies User properties in one transaction with its audit entries.
 * Unticking 2FA removes it completely (secret, codes, trusted browsers) and
 * ends the user's sessions — and, committed, tells the user by mail; ticking
 * it for a user without 2FA makes enrollment the first thing at their next
 * sign-in (and ends their sessions so it is).
 */
export async function updateUserProperties(
  db: Database,
  actorId: string,
  userId: string,
  input: PropertiesInput,
  context: RequestContext,
): Promise<{ ok: true } | { ok: false; error: PropertiesError }> {
  const result = await db.transaction((tx) => applyProperties(tx, actorId, userId, input, context));
  if (!result.ok) return result;
  // To the address the account had when the admin acted, in case this very edit changed it.
  if (result.removedFrom) await notifyTwoFactorRemoved(db, result.removedFrom, context, "admin");
  return { ok: true };
}

type Applied = { ok: true; removedFrom: UserProperties | null } | { ok: false; error: PropertiesError };

async function applyProperties(tx: Executor, actorId: string, userId: string, input: PropertiesInput, context: RequestContext): Promise<Applied> {
  const current = await getUserProperties(tx, userId);
  if (!current) return { ok: false, error: "not_found" };
  if (current.admin && !input.admin && !(await hasAnotherAdmin(tx, userId))) return { ok: false, error: "last_admin" };
  if (input.email !== current.email) {
    const [taken] = await tx.select({ id: users.id }).from(users).where(and(eq(users.email, input.email), ne(users.id, userId)));
    if (taken) return { ok: false, error: "email_taken" };
  }
  await tx
    .update(users)
    .set({ name: input.name, email: input.email, role: input.admin ? "admin" : "user" })
    .where(eq(users.id, userId));
  const who = { actorUserId: actorId, targetUserId: userId };
  let removed = false;
  if (!input.twoFactorEnabled && (current.twoFactorEnabled || current.twoFactorRequired)) {
    await removeTwoFactor(tx, userId);
    await tx.update(users).set({ twoFactorRequired: false }).where(eq(users.id, userId));
    await endSessions(tx, userId);
    if (current.twoFactorEnabled) await recordEvent(tx, "two_factor.removed_by_admin", who, context);
    removed = current.twoFactorEnabled; // only a factor the user had is news to them
  }
  if (input.twoFactorEnabled && !current.twoFactorEnabled && !current.twoFactorRequired) {
    await tx.update(users).set({ twoFactorRequired: true }).where(eq(users.id, userId));
    await endSessions(tx, userId);
  }
  await recordEvent(tx, "user.changed", who, context, changes(current, input));
  return { ok: true, removedFrom: removed ? current : null };
}

function changes(current: UserProperties, input: PropertiesInput): Record<string, string | boolean> {
  const changed: Record<string, string | boolean> = {};
  if (current.name !== input.name) changed.name = input.name;
  if (current.email !== input.email) changed.email = input.email;
  if (current.admin !== input.admin) changed.admin = input.admin;
  const twoFactorOn = current.twoFactorEnabled || current.twoFactorRequired;
  if (twoFactorOn !== input.twoFactorEnabled) changed.twoFactor = input.twoFactorEnabled ? "required" : "removed";
  return changed;
}
