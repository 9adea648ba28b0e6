import "server-only";
import { asc, eq, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { totpCredentials, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { hashPassword } from "@/lib/auth/password";

// The Users page's queries live in their own modules; imported from here as before.
export { countEnrolledUsers, countUsers } from "@/lib/user-counts";
export { searchUsers, type UserSearchResult, type UserSearchRow } from "@/lib/user-search";

export type NewUser = { name: string; email: string; password: string; admin: boolean };

/**
 * Creates a user with its audit entry. The email's unique index decides a
 * race between two creations; the loser gets "email_taken".
 */
export async function createUser(
  db: Executor,
  input: NewUser,
  actorUserId: string | null,
  context: RequestContext,
): Promise<{ ok: true; id: string } | { ok: false; error: "email_taken" }> {
  const passwordHash = await hashPassword(input.password);
  const [row] = await db
    .insert(users)
    .values({ name: input.name, email: input.email, passwordHash, role: input.admin ? "admin" : "user" })
    .onConflictDoNothing({ target: users.email })
    .returning({ id: users.id });
  if (!row) return { ok: false, error: "email_taken" };
  await recordEvent(db, "user.created", { actorUserId, targetUserId: row.id }, context, {
    role: input.admin ? "admin" : "user",
  });
  return { ok: true, id: row.id };
}

export type UserRow = {
  id: string;
  name: string;
  email: string;
  role: "admin" | "user";
  twoFactorEnabled: boolean;
  createdAt: Date;
};

/** @deprecated The first 200 users only: use searchUsers (kept until the Users page moves to it). */
export async function listUsers(db: Executor, limit = 200): Promise<UserRow[]> {
  return db
    .select({
      id: users.id,
      name: users.name,
      email: users.email,
      role: users.role,
      twoFactorEnabled: sql<boolean>`${totpCredentials.enabledAt} is not null`,
      createdAt: users.createdAt,
    })
    .from(users)
    .leftJoin(totpCredentials, eq(totpCredentials.userId, users.id))
    .orderBy(asc(users.name), asc(users.email))
    .limit(limit);
}

export async function findUserByEmail(db: Executor, email: string) {
  const [row] = await db.select().from(users).where(eq(users.email, email.trim().toLowerCase()));
  return row ?? null;
}
