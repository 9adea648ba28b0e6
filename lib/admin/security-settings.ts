import "server-only";
import { eq, sql } from "drizzle-orm";
import type { Database } from "@/db";
import { instanceSettings, trustedBrowsers } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { getSettings } from "@/lib/settings";

export type SecuritySettings = {
  twoFactorEnabled: boolean;
  trustBrowserEnabled: boolean;
  trustBrowserDays: number;
  requireTwoFactorFor: "nobody" | "admins" | "everyone";
  requireGraceDays: number;
};

/**
 * Settings → Security → Save, with its audit entry in one transaction.
 * Turning "Allow users to trust the browser" off revokes every trusted browser.
 */
export async function saveSecuritySettings(
  db: Database,
  actorUserId: string,
  input: SecuritySettings,
  context: RequestContext,
): Promise<void> {
  await db.transaction(async (tx) => {
    const before = await getSettings(tx);
    // The grace period counts from when the policy (or its scope) took effect, not from each save.
    const scopeChanged = before.requireTwoFactorFor !== input.requireTwoFactorFor;
    const requireSince = input.requireTwoFactorFor === "nobody" ? null : scopeChanged ? sql`now()` : before.requireSince;
    await tx
      .update(instanceSettings)
      .set({ ...input, requireSince, updatedAt: sql`now()` })
      .where(eq(instanceSettings.id, 1));
    const changed = Object.fromEntries(
      (Object.keys(input) as (keyof SecuritySettings)[]).filter((k) => before[k] !== input[k]).map((k) => [k, input[k]]),
    );
    if (before.trustBrowserEnabled && !input.trustBrowserEnabled) {
      const revoked = await tx.delete(trustedBrowsers).returning({ id: trustedBrowsers.id });
      changed.trustedBrowsersRevoked = revoked.length;
    }
    if (Object.keys(changed).length > 0) await recordEvent(tx, "settings.changed", { actorUserId }, context, changed);
  });
}
