import { eq, sql, type AnyColumn } from "drizzle-orm";
import type { Executor } from "@/db";
import { securityKeys, totpCredentials, users } from "@/db/schema";

/**
 * A user's second factors: a confirmed authenticator app (totp_credentials
 * with enabled_at), security keys, or both. Two-factor authentication is on
 * for the user when at least one is enrolled; recovery codes come with the
 * first and stay while any remains.
 */
export type Factors = { totp: boolean; keys: boolean };

export const hasAnyFactor = (factors: Factors): boolean => factors.totp || factors.keys;

/** SQL: the user of `userId` has at least one security key (an index scan of security_keys_user_idx). */
export function hasSecurityKeySql(userId: AnyColumn) {
  return sql<boolean>`exists (select 1 from ${securityKeys} where ${securityKeys.userId} = ${userId})`.mapWith(Boolean);
}

/** Which second factors the user has, in one query: what the second step offers. */
export async function factorsOf(db: Executor, userId: string): Promise<Factors> {
  const [row] = await db
    .select({ enabledAt: totpCredentials.enabledAt, keys: hasSecurityKeySql(users.id) })
    .from(users)
    .leftJoin(totpCredentials, eq(totpCredentials.userId, users.id))
    .where(eq(users.id, userId));
  return { totp: !!row?.enabledAt, keys: !!row?.keys };
}
