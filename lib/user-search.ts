import "server-only";
import { and, asc, count, desc, eq, or, sql, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Executor } from "@/db";
import { securityKeys, totpCredentials, users } from "@/db/schema";
import { countEnrolledUsers, countUsers } from "@/lib/user-counts";
import type { UserRow } from "@/lib/users";
import { USER_MATCH_COUNT_LIMIT, USERS_PAGE_SIZE, type UserFilter, type UserSearch } from "@/lib/validation/user-search";

/** `securityKeys`: how many the user has (the row's "key" badge). */
export type UserSearchRow = UserRow & { twoFactorRequired: boolean; securityKeys: number };

/**
 * One page of a search. When `capped` is true, more than `total` users match
 * (the count stopped there) and there are more than `pageCount` pages:
 * the page shows them as "5000+ users", "Page 1 of 201+".
 */
export type UserSearchResult = { rows: UserSearchRow[]; total: number; capped: boolean; page: number; pageCount: number };

/** Words of a search beyond this many are ignored: each one adds two index scans. */
const MAX_SEARCH_WORDS = 8;
/** A hand-typed ?page=1e300 would overflow PostgreSQL's bigint OFFSET; any page past the end gives the last page anyway. */
const MAX_PAGE = Math.floor(Number.MAX_SAFE_INTEGER / USERS_PAGE_SIZE) - 1;

const userColumns = {
  id: users.id,
  name: users.name,
  email: users.email,
  role: users.role,
  twoFactorRequired: users.twoFactorRequired,
  createdAt: users.createdAt,
};

/** An enabled credential exists for the user (an unconfirmed enrollment does not count). */
const totpEnrolled = sql`exists (select 1 from ${totpCredentials} where ${totpCredentials.userId} = ${users.id} and ${totpCredentials.enabledAt} is not null)`;

/**
 * The user has at least one security key. No index of its own is needed: with few keys PostgreSQL
 * drives the semi-join from security_keys (users by primary key, a top-25 sort); with many it walks
 * the name order probing security_keys_user_idx, which they make short. At 100 000 users on
 * PostgreSQL: 300 with keys ~2 ms for count and page; 20 000 with keys ~12 ms (the count of 5 000).
 */
const hasSecurityKey = sql`exists (select 1 from ${securityKeys} where ${securityKeys.userId} = ${users.id})`;

/**
 * 2FA is on: the authenticator app, or a security key (a key alone is a second factor,
 * lib/two-factor/factors.ts). Scalar subqueries, not EXISTS: PostgreSQL plans an OR of two EXISTS
 * as hashed subplans, reading every enabled credential (25 000 at 100 000 users, ~30 ms) for a
 * page of 25; these are two primary-key or index probes per user tested (~0.5 ms for the page).
 */
const enrolled = sql`((select ${totpCredentials.enabledAt} from ${totpCredentials} where ${totpCredentials.userId} = ${users.id}) is not null
  or (select 1 from ${securityKeys} where ${securityKeys.userId} = ${users.id} limit 1) is not null)`;

/**
 * Administration → Users: one page of USERS_PAGE_SIZE users ordered by name
 * (case-insensitive) then email, and the number of matches. Each word of
 * `query` must match part of the name or the email, case-insensitively.
 * A page past the end gives the last page.
 *
 * The cost does not follow the number of users: without a search the totals
 * come from `user_counts` (kept by triggers) and the page walks
 * `users_order_idx`; a search reads its matches once, through the trigram
 * indexes, up to USER_MATCH_COUNT_LIMIT of them (beyond, `capped`, and the
 * name order is walked). At 100 000 users on PostgreSQL: ~1 ms for the first
 * page, ~5 ms for a search matching 2 500 users, ~1 ms for one matching one.
 */
export async function searchUsers(db: Executor, search: UserSearch): Promise<UserSearchResult> {
  const words = searchWords(search.query);
  const where = and(...words.map(matchesWord), matchesFilter(search.filter));
  const requested = Math.min(Math.max(1, Math.floor(search.page) || 1), MAX_PAGE);
  if (words.length === 0) return pageInOrder(db, where, search.filter, requested, null);
  return (await rankedMatches(db, where, requested)) ?? pageInOrder(db, where, search.filter, requested, USER_MATCH_COUNT_LIMIT);
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
  // Each factor's NOT EXISTS on its own, not NOT (a OR b): only separate ones become anti-joins.
  if (filter === "off") return sql`not ${totpEnrolled} and not ${hasSecurityKey} and not ${users.twoFactorRequired}`;
  // `two_factor_required` as is, like the predicate of users_required_order_idx.
  if (filter === "required") return sql`${users.twoFactorRequired} and not ${totpEnrolled} and not ${hasSecurityKey}`;
  if (filter === "key") return hasSecurityKey;
  return undefined;
}

/**
 * A search matching at most USER_MATCH_COUNT_LIMIT users, in one statement:
 * find every match through the trigram indexes (at most the limit plus one),
 * count them, and sort them for the page (a top-25 heap sort, not a full
 * one). Null when more match: the caller walks the name order.
 *
 * Not left to the planner: with a LIMIT it may walk the name order and test
 * each row, which reads nearly the whole table when the matches sort last —
 * as a name's do: "zoe" at 100 000 users is 2 500 "Zoe …" at the end (70 ms
 * that way, 4 ms this way, most of it reading those rows once).
 */
async function rankedMatches(db: Executor, where: SQL | undefined, requested: number): Promise<UserSearchResult | null> {
  const first = await matchesPage(db, where, (requested - 1) * USERS_PAGE_SIZE);
  if (first.total > USER_MATCH_COUNT_LIMIT) return null;
  const pageCount = Math.max(1, Math.ceil(first.total / USERS_PAGE_SIZE));
  const page = Math.min(requested, pageCount);
  // A page past the end (a stale or hand-edited URL) gives the last page: read again for it.
  const { rows } = page === requested ? first : await matchesPage(db, where, (page - 1) * USERS_PAGE_SIZE);
  return { rows, total: first.total, capped: false, page, pageCount };
}

/**
 * The matches (at most the limit plus one) read once into a CTE, which
 * PostgreSQL materialises as it is used twice: counted, and sorted for the
 * page. The count is the left side of the join, so that a page past the
 * end still returns it (in a row without a user).
 */
async function matchesPage(db: Executor, where: SQL | undefined, offset: number): Promise<{ rows: UserSearchRow[]; total: number }> {
  const found = db.$with("found").as(db.select(userColumns).from(users).where(where).limit(USER_MATCH_COUNT_LIMIT + 1));
  const counted = db.select({ total: count().as("total") }).from(found).as("counted");
  const pageRows = db
    .select()
    .from(found)
    .orderBy(sql`lower(${found.name})`, found.email)
    .limit(USERS_PAGE_SIZE)
    .offset(offset)
    .as("page");
  const joined = await db
    .with(found)
    .select({ ...pageColumns(pageRows), total: counted.total })
    .from(counted)
    .leftJoin(pageRows, sql`true`)
    .leftJoin(totpCredentials, eq(totpCredentials.userId, pageRows.id))
    .orderBy(sql`lower(${pageRows.name})`, pageRows.email);
  const rows = joined.flatMap(({ total: _, ...row }) => (row.id === null ? [] : [row as UserSearchRow]));
  return { rows, total: joined[0]?.total ?? 0 };
}

/**
 * Without a search, or with one matching more than USER_MATCH_COUNT_LIMIT
 * users (then `moreThan` is that limit): walk users_order_idx testing each row, and stop
 * after the page. So many matches are dense enough in the name order that
 * the walk is short. With an exact total, a page past the middle is read
 * backwards from the end: the last page costs what the first does.
 */
async function pageInOrder(
  db: Executor,
  where: SQL | undefined,
  filter: UserFilter,
  requested: number,
  moreThan: number | null,
): Promise<UserSearchResult> {
  const { total, capped } = await countMatches(db, where, filter, (requested - 1) * USERS_PAGE_SIZE, moreThan);
  // Capped: the requested page is known to be full, and one more user after it exists.
  const pageCount = capped ? Math.ceil((total + 1) / USERS_PAGE_SIZE) : Math.max(1, Math.ceil(total / USERS_PAGE_SIZE));
  const page = capped ? requested : Math.min(requested, pageCount);
  if (total === 0) return { rows: [], total, capped, page, pageCount };
  const offset = (page - 1) * USERS_PAGE_SIZE;
  const fromEnd = !capped && offset > total / 2;
  const direction = fromEnd ? desc : asc;
  const pageRows = db
    .select(userColumns)
    .from(users)
    .where(where)
    .orderBy(direction(sql`lower(${users.name})`), direction(users.email))
    .limit(fromEnd ? Math.min(USERS_PAGE_SIZE, total - offset) : USERS_PAGE_SIZE)
    .offset(fromEnd ? Math.max(0, total - offset - USERS_PAGE_SIZE) : offset)
    .as("page");
  // The 2FA state is looked up for the page's rows only, after paging: 25 primary-key probes.
  const rows = await db
    .select(pageColumns(pageRows))
    .from(pageRows)
    .leftJoin(totpCredentials, eq(totpCredentials.userId, pageRows.id))
    .orderBy(sql`lower(${pageRows.name})`, pageRows.email);
  return { rows, total, capped, page, pageCount };
}

/**
 * The number of matches for pageInOrder. Without a search, "all" and "on"
 * are exact from the counters. Otherwise matches are counted up to
 * USER_MATCH_COUNT_LIMIT, or to the end of the requested page if that is
 * further, plus one to tell whether more exist: never more rows than the
 * page itself must skip, where `count(*)` read every match. Not counted
 * again when a search already found more than the limit and the page lies within it.
 */
async function countMatches(
  db: Executor,
  where: SQL | undefined,
  filter: UserFilter,
  offset: number,
  moreThan: number | null,
): Promise<{ total: number; capped: boolean }> {
  if (moreThan === null && filter === "all") return { total: await countUsers(db), capped: false };
  if (moreThan === null && filter === "on") return { total: await countEnrolledUsers(db), capped: false };
  const limit = Math.max(USER_MATCH_COUNT_LIMIT, offset + USERS_PAGE_SIZE);
  if (moreThan !== null && moreThan >= limit) return { total: limit, capped: true };
  const matches = db.select({ id: users.id }).from(users).where(where).limit(limit + 1).as("matches");
  const [row] = await db.select({ n: count() }).from(matches);
  return row.n > limit ? { total: limit, capped: true } : { total: row.n, capped: false };
}

/** userColumns as columns of a subquery that selected them. */
function pickUserColumns<T extends Record<keyof typeof userColumns, AnyPgColumn>>(from: T) {
  const { id, name, email, role, twoFactorRequired, createdAt } = from;
  return { id, name, email, role, twoFactorRequired, createdAt };
}

/**
 * A page's columns from a subquery of userColumns, with the 2FA state (the left-joined credential or a
 * key) and the number of security keys (counted for the page's rows only: 25 probes of security_keys_user_idx).
 */
function pageColumns<T extends Record<keyof typeof userColumns, AnyPgColumn>>(page: T) {
  return {
    ...pickUserColumns(page),
    // As `enrolled`, for the page's rows: the joined credential, or a key.
    twoFactorEnabled: sql<boolean>`(${totpCredentials.enabledAt} is not null or (select 1 from ${securityKeys} where ${securityKeys.userId} = ${page.id} limit 1) is not null)`,
    securityKeys: sql<number>`(select count(*) from ${securityKeys} where ${securityKeys.userId} = ${page.id})`.mapWith(Number),
  };
}
