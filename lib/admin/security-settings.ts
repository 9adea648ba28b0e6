import "server-only";
import { eq, sql, type SQL } from "drizzle-orm";
import type { Database, Executor } from "@/db";
import { instanceSettings, trustedBrowsers, type InstanceSettings } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { requireConfirmation, type AdminSession, type ConfirmationRequired } from "@/lib/admin/step-up";
import { notifyAdministrators } from "@/lib/notifications/notify";
import { getSettings } from "@/lib/settings";
import { factorsOf } from "@/lib/two-factor/factors";

export type SecuritySettings = {
  twoFactorEnabled: boolean;
  trustBrowserEnabled: boolean;
  trustBrowserDays: number;
  requireTwoFactorFor: "nobody" | "admins" | "everyone";
  requireGraceDays: number;
  /** Allow sign-in with a passkey; left out (callers that predate it), the current value stays. */
  passkeySignInEnabled?: boolean;
  /** Require a security key for administrators; left out, the current value stays. */
  requireSecurityKeyForAdmins?: boolean;
};

const SCOPE_RANK = { nobody: 0, admins: 1, everyone: 2 } as const;

/**
 * Does this save make signing in weaker for others? Two-factor login off,
 * trusted browsers allowed or for longer, passkey sign-in allowed (a new
 * way in, without the password), administrators' keys no longer required,
 * enforcement lowered (a narrower
 * scope, or a longer grace while a policy is in force: users already due
 * would be let off). Those wait for the admin's confirmation; the opposite
 * changes do not.
 */
export function weakensSignIn(before: SecuritySettings, input: SecuritySettings): boolean {
  return (
    (before.twoFactorEnabled && !input.twoFactorEnabled) ||
    (!before.passkeySignInEnabled && !!input.passkeySignInEnabled) ||
    (before.requireSecurityKeyForAdmins && input.requireSecurityKeyForAdmins === false) ||
    (!before.trustBrowserEnabled && input.trustBrowserEnabled) ||
    input.trustBrowserDays > before.trustBrowserDays ||
    SCOPE_RANK[input.requireTwoFactorFor] < SCOPE_RANK[before.requireTwoFactorFor] ||
    (before.requireTwoFactorFor !== "nobody" && input.requireGraceDays > before.requireGraceDays)
  );
}

/**
 * Settings → Security → Save, with its audit entry in one transaction. A save
 * that weakens sign-in is refused, changing nothing, unless this session has
 * confirmed. Turning "Allow users to trust the browser" off revokes every
 * trusted browser. Turning two-factor login off is mailed to every
 * administrator once committed.
 */
export async function saveSecuritySettings(
  db: Database,
  session: AdminSession,
  input: SecuritySettings,
  context: RequestContext,
): Promise<{ ok: true } | ConfirmationRequired | { ok: false; error: "own_key_missing" }> {
  const result = await db.transaction(async (tx) => {
    const before = await lockedSettings(tx);
    const next: Required<SecuritySettings> = {
      ...input,
      passkeySignInEnabled: input.passkeySignInEnabled ?? before.passkeySignInEnabled,
      requireSecurityKeyForAdmins: input.requireSecurityKeyForAdmins ?? before.requireSecurityKeyForAdmins,
    };
    // Requiring keys of administrators, the one who requires it has one first: they would lose Administration at once.
    if (next.requireSecurityKeyForAdmins && !before.requireSecurityKeyForAdmins && !(await factorsOf(tx, session.id)).keys) {
      return { ok: false as const, error: "own_key_missing" as const };
    }
    if (weakensSignIn(before, next)) {
      const refused = await requireConfirmation(tx, session);
      if (refused) return refused;
    }
    await tx
      .update(instanceSettings)
      .set({ ...next, ...deadlines(before, next.requireTwoFactorFor), updatedAt: sql`now()` })
      .where(eq(instanceSettings.id, 1));
    const changed = Object.fromEntries(
      (Object.keys(next) as (keyof SecuritySettings)[]).filter((k) => before[k] !== next[k]).map((k) => [k, next[k]]),
    );
    if (before.trustBrowserEnabled && !next.trustBrowserEnabled) {
      const revoked = await tx.delete(trustedBrowsers).returning({ id: trustedBrowsers.id });
      changed.trustedBrowsersRevoked = revoked.length;
    }
    if (Object.keys(changed).length > 0) await recordEvent(tx, "settings.changed", { actorUserId: session.id }, context, changed);
    return { ok: true as const, turnedOff: before.twoFactorEnabled && !next.twoFactorEnabled };
  });
  if (!result.ok) return result;
  if (result.turnedOff) await notifyAdministrators(db, { kind: "instance_two_factor_off" }, session.id, context);
  return { ok: true };
}

/**
 * The settings row, locked until commit: two saves at once apply one after
 * the other, each judged (weakening or not) against what the other left.
 */
async function lockedSettings(tx: Executor): Promise<InstanceSettings> {
  await getSettings(tx);
  const [row] = await tx.select().from(instanceSettings).where(eq(instanceSettings.id, 1)).for("update");
  return row;
}

/**
 * When each part of the scope became required. The grace counts from when the
 * policy took effect for that part, not from each save: widening the scope
 * from administrators to everyone starts the others' grace and leaves the
 * administrators' deadline where it was (those already due stay due).
 */
function deadlines(before: InstanceSettings, scope: SecuritySettings["requireTwoFactorFor"]): { requireSince: Since; requireEveryoneSince: Since } {
  const now = sql`now()`;
  if (scope === "nobody") return { requireSince: null, requireEveryoneSince: null };
  const requireSince = before.requireTwoFactorFor !== "nobody" && before.requireSince ? before.requireSince : now;
  if (scope === "admins") return { requireSince, requireEveryoneSince: null };
  const requireEveryoneSince = before.requireTwoFactorFor === "everyone" && before.requireEveryoneSince ? before.requireEveryoneSince : now;
  return { requireSince, requireEveryoneSince };
}

type Since = Date | SQL | null;
