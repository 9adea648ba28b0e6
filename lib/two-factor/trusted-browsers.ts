import "server-only";
import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { instanceSettings, trustedBrowsers, type InstanceSettings } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { randomToken, sha256Hex } from "@/lib/crypto";

export const TRUST_COOKIE = "trusted-browser";
export const TRUST_DAYS_MIN = 1;
export const TRUST_DAYS_MAX = 90;

export type TrustedBrowser = { id: string; description: string; createdAt: Date; lastUsedAt: Date | null; expiresAt: Date };

/**
 * Remembers this browser for `days` (fixed: use does not extend it). Returns
 * the 256-bit token for the cookie; only its SHA-256 is stored.
 */
export async function trustBrowser(db: Executor, userId: string, days: number, context: RequestContext): Promise<string> {
  const token = randomToken(32);
  const description = describeBrowser(context.userAgent);
  await db.insert(trustedBrowsers).values({
    userId,
    tokenHash: sha256Hex(token),
    description,
    expiresAt: sql`now() + make_interval(days => ${days})`,
  });
  await recordEvent(db, "trusted_browser.added", { actorUserId: userId, targetUserId: userId }, context, { browser: description });
  return token;
}

/**
 * The trusted-browser row for this user and token, if it is honoured now:
 * the option is on, it has not expired, and it is not older than the
 * current number of days (an admin lowering the days cuts it short).
 * A token of another user never matches.
 */
export async function findTrustedBrowser(db: Executor, userId: string, token: string, settings: InstanceSettings) {
  if (!settings.trustBrowserEnabled || !token || token.length > 100) return null;
  const [row] = await db
    .select({ id: trustedBrowsers.id })
    .from(trustedBrowsers)
    .where(
      and(
        eq(trustedBrowsers.tokenHash, sha256Hex(token)),
        eq(trustedBrowsers.userId, userId),
        gt(trustedBrowsers.expiresAt, sql`now()`),
        gt(trustedBrowsers.createdAt, sql`now() - make_interval(days => ${settings.trustBrowserDays})`),
      ),
    );
  return row ?? null;
}

/**
 * Marks the trusted browser used, in the sign-in's finishing transaction, if
 * it is still honoured — findTrustedBrowser's checks read again, the
 * instance's settings included, by the same statement: true when it was. A
 * removal, a recovery code or the option turned off that committed since the
 * lookup wins (a removal in flight holds the row, and this waits for it).
 */
export async function recordTrustedBrowserUse(db: Executor, id: string): Promise<boolean> {
  const honoured = sql`exists (select 1 from ${instanceSettings} where ${instanceSettings.id} = 1 and ${instanceSettings.trustBrowserEnabled}
    and ${trustedBrowsers.createdAt} > now() - make_interval(days => ${instanceSettings.trustBrowserDays}))`;
  const used = await db
    .update(trustedBrowsers)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(trustedBrowsers.id, id), gt(trustedBrowsers.expiresAt, sql`now()`), honoured))
    .returning({ id: trustedBrowsers.id });
  return used.length === 1;
}

export function listTrustedBrowsers(db: Executor, userId: string): Promise<TrustedBrowser[]> {
  return db
    .select({
      id: trustedBrowsers.id,
      description: trustedBrowsers.description,
      createdAt: trustedBrowsers.createdAt,
      lastUsedAt: trustedBrowsers.lastUsedAt,
      expiresAt: trustedBrowsers.expiresAt,
    })
    .from(trustedBrowsers)
    .where(and(eq(trustedBrowsers.userId, userId), gt(trustedBrowsers.expiresAt, sql`now()`)))
    .orderBy(asc(trustedBrowsers.createdAt));
}

/**
 * Forgets the user's trusted browsers (one, or all when `id` is null), with
 * an audit entry when any was removed. Returns how many.
 */
export async function forgetTrustedBrowsers(
  db: Executor,
  userId: string,
  id: string | null,
  actorUserId: string | null,
  context: RequestContext,
  reason: string,
): Promise<number> {
  const removed = await db
    .delete(trustedBrowsers)
    .where(id ? and(eq(trustedBrowsers.userId, userId), eq(trustedBrowsers.id, id)) : eq(trustedBrowsers.userId, userId))
    .returning({ id: trustedBrowsers.id });
  if (removed.length > 0) {
    await recordEvent(db, "trusted_browser.removed", { actorUserId, targetUserId: userId }, context, { count: removed.length, reason });
  }
  return removed.length;
}

/**
 * "Chrome on Windows" from a user agent: enough for a person to recognise the
 * device. Literal searches only, on a capped string: linear whatever the header.
 */
export function describeBrowser(userAgent: string | null): string {
  const ua = (userAgent ?? "").slice(0, 512);
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(ua)
        ? "Chrome"
        : /Safari\//.test(ua)
          ? "Safari"
          : "A browser";
  const os = /Windows/.test(ua)
    ? "Windows"
    : /iPhone|iPad/.test(ua)
      ? "iOS"
      : /Mac OS X/.test(ua)
        ? "macOS"
        : /Android/.test(ua)
          ? "Android"
          : /Linux/.test(ua)
            ? "Linux"
            : "an unknown system";
  return `${browser} on ${os}`;
}
