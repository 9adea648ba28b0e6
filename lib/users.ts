import "server-only";
import { and, asc, count, desc, eq, or, sql, type SQL } from "drizzle-orm";
import type { Executor } from "@/db";
import { totpCredentials, users } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { hashPassword } from "@/lib/auth/password";
import { countEnrolledUsers } from "@/lib/user-counts";
import { USERS_PAGE_SIZE, type UserFilter, type UserSearch } from "@/lib/validation/user-search";

// Read from the counters of migration 0006; imported from here as before.
export { countEnrolledUsers, countUsers } from "@/lib/user-counts";

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

export type UserSearchRow = UserRow & { twoFactorRequired: boolean };
export type UserSearchResult = { rows: UserSearchRow[]; total: number; page: number; pageCount: number };

/** Words of a search beyond this many are ignored: each one adds two index scans. */
const MAX_SEARCH_WORDS = 8;
/** Keeps PostgreSQL from merging the matches subquery into the query around it; never reached. */
const SUBQUERY_FENCE_LIMIT = Number.MAX_SAFE_INTEGER;

const userColumns = {
  id: users.id,
  name: users.name,
  email: users.email,
  role: users.role,
  twoFactorRequired: users.twoFactorRequired,
  createdAt: users.createdAt,
};

/** An enabled credential exists for the user (an unconfirmed enrollment does not count). */
const enrolled = sql`exists (select 1 from ${totpCredentials} where ${totpCredentials.userId} = ${users.id} and ${totpCredentials.enabledAt} is not null)`;

/**
 * Administration → Users: one page of USERS_PAGE_SIZE users ordered by name
 * (case-insensitive) then email, and the number of matches. Each word of
 * `query` must match part of the name or the email, case-insensitively.
 * A page past the end gives the last page. Server time at 100 000 users on
 * PostgreSQL: ~10 ms for the first page (the exact count; the page itself
 * 0.1 ms), a few ms for a search, ~100 ms for one that matches nearly everyone.
 */
export async function searchUsers(db: Executor, search: UserSearch): Promise<UserSearchResult> {
  const words = searchWords(search.query);
  const where = and(...words.map(matchesWord), matchesFilter(search.filter));
  const total = await countMatches(db, where, words.length === 0 && search.filter === "on");
  const pageCount = Math.max(1, Math.ceil(total / USERS_PAGE_SIZE));
  const page = Math.min(Math.max(1, Math.floor(search.page) || 1), pageCount);
  if (total === 0) return { rows: [], total, page, pageCount };
  const offset = (page - 1) * USERS_PAGE_SIZE;
  const pageRows = words.length > 0 ? pageOfMatches(db, where, offset) : pageInOrder(db, where, offset, total);
  // The 2FA state is looked up for the page's rows only, after paging: 25 primary-key probes.
  const rows = await db
    .select({
      id: pageRows.id,
      name: pageRows.name,
      email: pageRows.email,
      role: pageRows.role,
      twoFactorEnabled: sql<boolean>`${totpCredentials.enabledAt} is not null`,
      twoFactorRequired: pageRows.twoFactorRequired,
      createdAt: pageRows.createdAt,
    })
    .from(pageRows)
    .leftJoin(totpCredentials, eq(totpCredentials.userId, pageRows.id))
    .orderBy(sql`lower(${pageRows.name})`, pageRows.email);
  return { rows, total, page, pageCount };
}

function searchWords(query: string): string[] {
  return [...new Set(query.trim().split(/\s+/).filter(Boolean))].slice(0, MAX_SEARCH_WORDS);
}

/** Substring of the name or the email; LIKE wildcards typed by the admin are taken literally. */
function matchesWord(word: string): SQL {
  const pattern = `%${word.replace(/[\\%_]/g, "\\$&")}%`;
  // lower() on both sides, as in the trigram index on lower(name) and the lower-case check on email.
  return or(sql`lower(${users.name}) like lower(${pattern})`, sql`${users.email} like lower(${pattern})`)!;
}

/**
 * (NOT) EXISTS rather than a left join tested for null: PostgreSQL estimates
 * an anti-join well, and such a left join at one row, which made it sort all
 * 65 000 "off" users for one page instead of walking the index.
 */
function matchesFilter(filter: UserFilter): SQL | undefined {
  if (filter === "on") return enrolled;
  if (filter === "off") return sql`not ${enrolled} and not ${users.twoFactorRequired}`;
  // `two_factor_required` as is, like the predicate of users_required_order_idx.
  if (filter === "required") return sql`${users.twoFactorRequired} and not ${enrolled}`;
  return undefined;
}

async function countMatches(db: Executor, where: SQL | undefined, onlyEnrolled: boolean): Promise<number> {
  // Every credential belongs to a user (foreign key): counting them skips reading all the users.
  if (onlyEnrolled) return countEnrolledUsers(db);
  const [row] = await db.select({ n: count() }).from(users).where(where);
  return row.n;
}

/**
 * Without a search: walk users_order_idx and stop after the page. Past the
 * middle, walk it backwards from the end: the last page costs what the first does.
 */
function pageInOrder(db: Executor, where: SQL | undefined, offset: number, total: number) {
  const fromEnd = offset > total / 2;
  const direction = fromEnd ? desc : asc;
  return db
    .select(userColumns)
    .from(users)
    .where(where)
    .orderBy(direction(sql`lower(${users.name})`), direction(users.email))
    .limit(fromEnd ? Math.min(USERS_PAGE_SIZE, total - offset) : USERS_PAGE_SIZE)
    .offset(fromEnd ? Math.max(0, total - offset - USERS_PAGE_SIZE) : offset)
    .as("page");
}

/**
 * With a search: find every match first (trigram indexes), then sort them.
 * Left to itself the planner may instead walk the name order and test each
 * row, which reads nearly the whole table when the matches sort last
 * ("zoe" at 100 000 users: 120–230 ms that way, a few ms this way).
 */
function pageOfMatches(db: Executor, where: SQL | undefined, offset: number) {
  const matches = db.select(userColumns).from(users).where(where).limit(SUBQUERY_FENCE_LIMIT).as("matches");
  return db
    .select()
    .from(matches)
    .orderBy(sql`lower(${matches.name})`, matches.email)
    .limit(USERS_PAGE_SIZE)
    .offset(offset)
    .as("page");
}
