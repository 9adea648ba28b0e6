import "server-only";
import { and, count, eq, ne } from "drizzle-orm";
import type { Database, Executor } from "@/db";
import { totpCredentials, trustedBrowsers, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { hasAnotherAdmin } from "@/lib/admin/set-user-role";
import { countActiveSessions } from "@/lib/account/sessions";
import { requireConfirmation, type AdminSession, type ConfirmationRequired } from "@/lib/admin/step-up";
import { notifyAdministrators, notifyEmailChanged, notifyRoleChanged, notifyTwoFactorRemoved } from "@/lib/notifications/notify";
import { listSecurityKeys } from "@/lib/security-keys/manage";
import { endSessions, removeTwoFactor } from "@/lib/two-factor/enrollment";

/** A key as User properties lists it: its name, and whether it is synced (a passkey) or on one device only. */
export type UserSecurityKey = { id: string; name: string; synced: boolean };

/** What the User properties dialog shows. Never a secret or a code. */
export type UserProperties = {
  id: string;
  name: string;
  email: string;
  admin: boolean;
  /** At least one second factor: the authenticator app (`totp`) or a security key. */
  twoFactorEnabled: boolean;
  totp: boolean;
  twoFactorRequired: boolean;
  trustedBrowsers: number;
  /** Oldest first; unticking 2FA removes them too. */
  securityKeys: UserSecurityKey[];
  /** Sessions a change of the user's 2FA would end (it bumps their sessionVersion). */
  activeSessions: number;
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
  const securityKeys = await listUserSecurityKeys(db, userId);
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    admin: row.role === "admin",
    // A key alone is a second factor (lib/two-factor/factors.ts): such a user's box is ticked, and unticking removes it.
    twoFactorEnabled: !!row.enabledAt || securityKeys.length > 0,
    totp: !!row.enabledAt,
    twoFactorRequired: row.required,
    trustedBrowsers: browsers.n,
    securityKeys,
    activeSessions: await countActiveSessions(db, userId),
  };
}

/** The user's keys for User properties: never the public key, the credential id or the counter. */
export async function listUserSecurityKeys(db: Executor, userId: string): Promise<UserSecurityKey[]> {
  return (await listSecurityKeys(db, userId)).map(({ id, name, synced }) => ({ id, name, synced }));
}

export type PropertiesInput = { name: string; email: string; admin: boolean; twoFactorEnabled: boolean };
export type PropertiesError = "not_found" | "email_taken" | "last_admin";

/**
 * Does this edit touch security — the role, the second factor, or the email
 * (where password resets and notices go)? Those need the admin's fresh
 * confirmation; a new name does not.
 */
export function isSensitiveChange(current: UserProperties, input: PropertiesInput): boolean {
  const twoFactorOn = current.twoFactorEnabled || current.twoFactorRequired;
  return current.admin !== input.admin || twoFactorOn !== input.twoFactorEnabled || current.email !== input.email;
}

/**
 * Applies User properties in one transaction with its audit entries. A
 * sensitive edit (isSensitiveChange) is refused, changing nothing, unless this
 * session has confirmed. Unticking 2FA removes it completely (secret, codes,
 * security keys, trusted browsers) and ends the user's sessions — and,
 * committed, tells the user by mail; ticking it for a user without 2FA makes
 * enrollment the first thing at their next sign-in (and ends their sessions
 * so it is). A new email is told to the old address, a new role to the user,
 * and a new administrator to every administrator.
 */
export async function updateUserProperties(
  db: Database,
  session: AdminSession,
  userId: string,
  input: PropertiesInput,
  context: RequestContext,
): Promise<{ ok: true } | { ok: false; error: PropertiesError } | ConfirmationRequired> {
  const result = await db.transaction((tx) => applyProperties(tx, session, userId, input, context));
  if (!result.ok) return result;
  // To the address the account had when the admin acted, in case this very edit changed it.
  if (result.removedFrom) await notifyTwoFactorRemoved(db, result.removedFrom, context, "admin");
  const { previous } = result;
  if (previous.email !== input.email) await notifyEmailChanged(db, previous, input.email, session.id, context);
  if (previous.admin !== input.admin) await notifyRoleChanged(db, { id: userId, name: input.name, email: input.email }, input.admin, session.id, context);
  if (!previous.admin && input.admin) await notifyAdministrators(db, { kind: "administrator_added", name: input.name, email: input.email }, session.id, context);
  return { ok: true };
}

type Applied = { ok: true; removedFrom: UserProperties | null; previous: UserProperties } | { ok: false; error: PropertiesError } | ConfirmationRequired;

async function applyProperties(tx: Executor, session: AdminSession, userId: string, input: PropertiesInput, context: RequestContext): Promise<Applied> {
  // The row locked until commit: the edit is judged against what it will change, not against a concurrent edit's past.
  await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for("update");
  const current = await getUserProperties(tx, userId);
  if (!current) return { ok: false, error: "not_found" };
  if (isSensitiveChange(current, input)) {
    const refused = await requireConfirmation(tx, session);
    if (refused) return refused;
  }
  if (current.admin && !input.admin && !(await hasAnotherAdmin(tx, userId))) return { ok: false, error: "last_admin" };
  if (input.email !== current.email) {
    const [taken] = await tx.select({ id: users.id }).from(users).where(and(eq(users.email, input.email), ne(users.id, userId)));
    if (taken) return { ok: false, error: "email_taken" };
  }
  await tx
    .update(users)
    .set({ name: input.name, email: input.email, role: input.admin ? "admin" : "user" })
    .where(eq(users.id, userId));
  const who = { actorUserId: session.id, targetUserId: userId };
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
  return { ok: true, removedFrom: removed ? current : null, previous: current };
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
