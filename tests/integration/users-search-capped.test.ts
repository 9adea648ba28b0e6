import { sql, type SQL } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { seedUsers } from "@/lib/admin/seed-users";
import { countEnrolledUsers, searchUsers, type UserSearchResult } from "@/lib/users";
import { USER_MATCH_COUNT_LIMIT, USERS_PAGE_SIZE, type UserFilter, type UserSearch } from "@/lib/validation/user-search";
import { testDrivers, useTestDatabase } from "./support/databases";
import { rawRows } from "./support/fixtures";

const search = (query: string, page = 1, filter: UserFilter = "all"): UserSearch => ({ query, page, filter });
const emails = (result: UserSearchResult) => result.rows.map((row) => row.email);
const pages = (users: number) => Math.ceil(users / USERS_PAGE_SIZE);

/** More users than a search counts: the counts stop at the limit, the pages do not. */
describe.each(testDrivers())("searchUsers beyond USER_MATCH_COUNT_LIMIT matches on %s", (driver) => {
  const t = useTestDatabase(driver);
  const SEEDED = USER_MATCH_COUNT_LIMIT + 4 * USERS_PAGE_SIZE; // every one matches "@seed.example"

  beforeAll(async () => {
    await seedUsers(t.db, { count: SEEDED, passwordHash: "seeded users share this hash" });
  });

  /** Rows `offset`… of the database's own order (lower-cased name, then email). */
  async function databaseOrder(where: SQL, offset = 0, limit = USERS_PAGE_SIZE): Promise<string[]> {
    const rows = await rawRows<{ email: string }>(
      t.db,
      sql`select email from users where ${where} order by lower(name), email limit ${limit} offset ${offset}`,
    );
    return rows.map((row) => row.email);
  }

  const everyone = sql`email like '%@seed.example%'`;

  it("shows a search matching more than the limit as more than it, in pages of the database's order, each with a next one", async () => {
    const first = await searchUsers(t.db, search("@seed.example"));
    expect(first).toMatchObject({ total: USER_MATCH_COUNT_LIMIT, capped: true, page: 1, pageCount: pages(USER_MATCH_COUNT_LIMIT + 1) });
    expect(emails(first)).toEqual(await databaseOrder(everyone));
    const middle = await searchUsers(t.db, search("@seed.example", 150));
    expect(middle).toMatchObject({ capped: true, page: 150 });
    expect(middle.page).toBeLessThan(middle.pageCount); // the page shows a Next link
    expect(emails(middle)).toEqual(await databaseOrder(everyone, 149 * USERS_PAGE_SIZE));
  });

  it("counts on to the requested page when it lies past the limit, and still says when more follow", async () => {
    const page = USER_MATCH_COUNT_LIMIT / USERS_PAGE_SIZE + 2; // rows 5 026–5 050 of 5 100
    const result = await searchUsers(t.db, search("@seed.example", page));
    expect(result).toMatchObject({ total: page * USERS_PAGE_SIZE, capped: true, page, pageCount: page + 1 });
    expect(emails(result)).toEqual(await databaseOrder(everyone, (page - 1) * USERS_PAGE_SIZE));
  });

  it("gives the last page, counted exactly, for a page past the end of a search that matched more than the limit", async () => {
    const result = await searchUsers(t.db, search("@seed.example", pages(SEEDED) + 3));
    expect(result).toMatchObject({ total: SEEDED, capped: false, page: pages(SEEDED), pageCount: pages(SEEDED) });
    expect(emails(result)).toEqual(await databaseOrder(everyone, (pages(SEEDED) - 1) * USERS_PAGE_SIZE));
    expect(await searchUsers(t.db, search("@seed.example", 1e300))).toMatchObject({ page: pages(SEEDED), capped: false });
  });

  it("counts and sorts exactly a search matching fewer than the limit among them all, even when its matches sort last", async () => {
    const zoe = sql`lower(name) like '%zoe%'`;
    const [{ n }] = await rawRows<{ n: number | string }>(t.db, sql`select count(*) as n from users where ${zoe}`);
    expect(Number(n)).toBeGreaterThan(USERS_PAGE_SIZE);
    const result = await searchUsers(t.db, search("ZOE"));
    expect(result).toMatchObject({ total: Number(n), capped: false, pageCount: pages(Number(n)) });
    expect(emails(result)).toEqual(await databaseOrder(zoe));
    const last = await searchUsers(t.db, search("zoe", pages(Number(n))));
    expect(emails(last)).toEqual(await databaseOrder(zoe, (pages(Number(n)) - 1) * USERS_PAGE_SIZE));
    expect(emails(await searchUsers(t.db, search("user00042")))).toEqual(["user00042@seed.example"]);
  });

  it("counts every user and the enrolled ones exactly, without a search, from the counters", async () => {
    expect(await searchUsers(t.db, search(""))).toMatchObject({ total: SEEDED, capped: false, pageCount: pages(SEEDED) });
    const last = await searchUsers(t.db, search("", pages(SEEDED)));
    expect(emails(last)).toEqual(await databaseOrder(sql`true`, (pages(SEEDED) - 1) * USERS_PAGE_SIZE));
    const on = await searchUsers(t.db, search("", 1, "on"));
    expect(on).toMatchObject({ total: await countEnrolledUsers(t.db), capped: false });
    expect(on.rows.every((row) => row.twoFactorEnabled)).toBe(true);
  });

  it("counts a filter by its rows, exactly below the limit", async () => {
    const [{ n }] = await rawRows<{ n: number | string }>(
      t.db,
      sql`select count(*) as n from users u where not u.two_factor_required and not exists (select 1 from totp_credentials c where c.user_id = u.id and c.enabled_at is not null)`,
    );
    expect(Number(n)).toBeLessThan(USER_MATCH_COUNT_LIMIT);
    expect(await searchUsers(t.db, search("", 1, "off"))).toMatchObject({ total: Number(n), capped: false });
  });
});
