import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Database } from "@/db";
import { totpCredentials, users } from "@/db/schema";
import { countEnrolledUsers, searchUsers, type UserSearchResult } from "@/lib/users";
import { parseUserSearch, USERS_PAGE_SIZE, type UserFilter, type UserSearch } from "@/lib/validation/user-search";
import { testDrivers, useTestDatabase } from "./support/databases";
import { rawRows } from "./support/fixtures";
import { captureQueries, planWithout } from "./support/query-plans";

type State = "on" | "off" | "required" | "required+on" | "pending";
type Person = { name: string; email: string; state: State };

/** A fixed cast (each file has its own database): names with case, accents and LIKE wildcards. */
const PEOPLE: Person[] = [
  { name: "Alice Zephyr", email: "alice.zephyr@example.test", state: "on" },
  { name: "alice Adams", email: "adams@corp.test", state: "off" },
  { name: "Bob Stone", email: "bob@example.test", state: "required" },
  { name: "Carol Stone", email: "carol@example.test", state: "required+on" }, // enrolled since: "on", not "required"
  { name: "Dave Pending", email: "dave@example.test", state: "pending" }, // enrollment started, never confirmed: "off"
  { name: "Eve 100% Real_Name", email: "eve@example.test", state: "off" },
  { name: "Émile Zola", email: "emile@example.test", state: "off" },
  { name: "Sam Same", email: "sam.b@example.test", state: "off" },
  { name: "sam same", email: "sam.a@example.test", state: "on" },
  ...Array.from({ length: 60 }, (_, i): Person => {
    const n = String(60 - i).padStart(2, "0"); // inserted in reverse: the order must come from the query
    return { name: `Pager ${n}`, email: `pager${n}@paging.test`, state: i % 3 === 0 ? "on" : i % 3 === 1 ? "required" : "off" };
  }),
];

async function insertPeople(db: Database): Promise<void> {
  const rows = await db
    .insert(users)
    .values(PEOPLE.map((p) => ({ name: p.name, email: p.email, passwordHash: "not-a-hash", twoFactorRequired: p.state.startsWith("required") })))
    .returning({ id: users.id, email: users.email });
  const stateOf = new Map(PEOPLE.map((p) => [p.email, p.state]));
  const credentials = rows
    .filter((row) => ["on", "required+on", "pending"].includes(stateOf.get(row.email)!))
    .map((row) => ({ userId: row.id, secretCiphertext: "v1.test", enabledAt: stateOf.get(row.email) === "pending" ? null : new Date() }));
  await db.insert(totpCredentials).values(credentials);
}

const search = (query: string, page = 1, filter: UserFilter = "all"): UserSearch => ({ query, page, filter });
const emails = (result: UserSearchResult) => result.rows.map((row) => row.email);

describe.each(testDrivers())("searchUsers on %s", (driver) => {
  const t = useTestDatabase(driver);
  beforeAll(async () => {
    await insertPeople(t.db);
    await t.db.execute(sql`analyze`);
  });

  /** Every page of a search, one after the other. */
  async function allPages(query: string, filter: UserFilter = "all"): Promise<string[]> {
    const first = await searchUsers(t.db, search(query, 1, filter));
    const rest = [];
    for (let page = 2; page <= first.pageCount; page++) rest.push(...emails(await searchUsers(t.db, search(query, page, filter))));
    return [...emails(first), ...rest];
  }

  /** The order the database itself gives: lower-cased name, then email (its own collation, as the query uses). */
  async function databaseOrder(where = sql`true`): Promise<string[]> {
    const rows = await rawRows<{ email: string }>(t.db, sql`select email from users where ${where} order by lower(name), email`);
    return rows.map((row) => row.email);
  }

  it("finds users by part of the name, whatever the case typed or stored", async () => {
    expect(emails(await searchUsers(t.db, search("ZEPH")))).toEqual(["alice.zephyr@example.test"]);
    expect(emails(await searchUsers(t.db, search("aLiCe")))).toEqual(["adams@corp.test", "alice.zephyr@example.test"]);
    expect(emails(await searchUsers(t.db, search("ÉMILE")))).toEqual(["emile@example.test"]);
  });

  it("finds users by part of the email, whatever the case typed", async () => {
    expect(emails(await searchUsers(t.db, search("CORP.Test")))).toEqual(["adams@corp.test"]);
    expect(emails(await searchUsers(t.db, search("pager42@")))).toEqual(["pager42@paging.test"]);
  });

  it("requires every word to match, in any order, in the name or the email", async () => {
    expect(emails(await searchUsers(t.db, search("stone carol")))).toEqual(["carol@example.test"]);
    expect(emails(await searchUsers(t.db, search("  zola   emile@  ")))).toEqual(["emile@example.test"]);
    expect((await searchUsers(t.db, search("stone nobody"))).total).toBe(0);
  });

  it("takes the LIKE wildcards % and _ and the escape \\ literally", async () => {
    expect(emails(await searchUsers(t.db, search("%")))).toEqual(["eve@example.test"]);
    expect(emails(await searchUsers(t.db, search("a_e")))).toEqual([]); // unescaped, "_" would match "sam same"
    expect(emails(await searchUsers(t.db, search("real_")))).toEqual(["eve@example.test"]);
    expect((await searchUsers(t.db, search("\\"))).total).toBe(0);
    expect((await searchUsers(t.db, search("'; drop table users; --"))).total).toBe(0);
  });

  it("pages 25 at a time in name order, ties broken by email, and counts every match", async () => {
    const first = await searchUsers(t.db, search("pager"));
    expect(first).toMatchObject({ total: 60, page: 1, pageCount: 3 });
    expect(first.rows).toHaveLength(USERS_PAGE_SIZE);
    expect(first.rows[0].name).toBe("Pager 01");
    const last = await searchUsers(t.db, search("pager", 3));
    expect(last.rows.map((row) => row.name)).toEqual(Array.from({ length: 10 }, (_, i) => `Pager ${51 + i}`));
    expect(emails(await searchUsers(t.db, search("same")))).toEqual(["sam.a@example.test", "sam.b@example.test"]);
  });

  it("walks every page without a search in the database's order, the later half read from the end", async () => {
    const expected = await databaseOrder();
    expect(expected.length).toBeGreaterThan(2 * USERS_PAGE_SIZE);
    expect(await allPages("")).toEqual(expected);
    expect(await allPages("a")).toEqual(await databaseOrder(sql`lower(name) like '%a%' or email like '%a%'`));
  });

  it("gives the last page for a page past the end, and page 1 of nothing for no match", async () => {
    expect(await searchUsers(t.db, search("pager", 99))).toMatchObject({ page: 3, pageCount: 3, total: 60 });
    expect(await searchUsers(t.db, search("no such person", 4))).toEqual({ rows: [], total: 0, capped: false, page: 1, pageCount: 1 });
    expect((await searchUsers(t.db, search("pager", 0))).page).toBe(1);
    expect((await searchUsers(t.db, search("pager", Number.NaN))).page).toBe(1);
  });

  it("filters on the 2FA state: on (enabled), required (told to enrol, not yet), off (neither)", async () => {
    const on = await allPages("", "on");
    const required = await allPages("", "required");
    const off = await allPages("", "off");
    expect(on).toEqual(expect.arrayContaining(["alice.zephyr@example.test", "carol@example.test", "sam.a@example.test"]));
    expect(required).toContain("bob@example.test");
    expect(off).toEqual(expect.arrayContaining(["adams@corp.test", "dave@example.test", "eve@example.test"]));
    expect(required).not.toContain("carol@example.test");
    expect(on).not.toContain("dave@example.test");
    expect(on.length + required.length + off.length).toBe((await searchUsers(t.db, search(""))).total);
    expect(new Set([...on, ...required, ...off]).size).toBe(on.length + required.length + off.length);
    expect((await searchUsers(t.db, search("", 1, "on"))).total).toBe(await countEnrolledUsers(t.db));
  });

  it("combines a filter with a search, and counts what both select", async () => {
    const result = await searchUsers(t.db, search("pager", 1, "required"));
    expect(result.total).toBe(20);
    expect(result.rows.every((row) => row.twoFactorRequired && !row.twoFactorEnabled)).toBe(true);
    expect(emails(await searchUsers(t.db, search("stone", 1, "on")))).toEqual(["carol@example.test"]);
    expect(emails(await searchUsers(t.db, search("stone", 1, "required")))).toEqual(["bob@example.test"]);
  });

  it("returns each row's role and 2FA state, and nothing secret", async () => {
    const [carol] = (await searchUsers(t.db, search("carol"))).rows;
    expect(carol).toMatchObject({ name: "Carol Stone", role: "user", twoFactorEnabled: true, twoFactorRequired: true });
    expect(carol.createdAt).toBeInstanceOf(Date);
    expect(Object.keys(carol).sort()).toEqual(["createdAt", "email", "id", "name", "role", "securityKeys", "twoFactorEnabled", "twoFactorRequired"]);
    const [dave] = (await searchUsers(t.db, search("dave"))).rows;
    expect(dave).toMatchObject({ twoFactorEnabled: false, twoFactorRequired: false });
  });

  it("turns any search params, however malformed, into a valid search", async () => {
    const malformed = [
      undefined,
      "page=2",
      { page: "-3", filter: "everyone", query: "x".repeat(101) },
      { page: "2.5", filter: ["on", "off"], query: { $ne: "" } },
      { page: "1e999" },
    ];
    for (const params of malformed) {
      const parsed = parseUserSearch(params);
      expect(parsed.page).toBeGreaterThanOrEqual(1);
      await expect(searchUsers(t.db, parsed)).resolves.toMatchObject({ page: expect.any(Number) });
    }
    expect(parseUserSearch({ page: ["2"], query: [" Pager "], filter: "required" })).toEqual({ query: "Pager", page: 2, filter: "required" });
    expect(parseUserSearch({ page: "-3", filter: "everyone", query: "x".repeat(101) })).toEqual({ query: "", page: 1, filter: "all" });
  });

  describe("uses an index, not a read of the whole table (what keeps 100 000 users fast)", () => {
    async function plans(query: UserSearch, settingsOff: string[]): Promise<string[]> {
      const captured = await captureQueries(t, (db) => searchUsers(db, query));
      return Promise.all(captured.map((q) => planWithout(t, q, settingsOff)));
    }

    it("walks users_order_idx for a page, in order: the only sort is of the page's 25 rows", async () => {
      const [, firstPage] = await plans(search("", 1), ["enable_seqscan", "enable_sort"]);
      expect(firstPage).toMatch(/Limit[\s\S]*Index Scan using users_order_idx/);
      expect(firstPage).not.toMatch(/Seq Scan on users/);
      expect(firstPage.match(/^(.*-> +)?Sort +\(/gm)).toHaveLength(1);
      expect(firstPage.split("\n")[0]).toMatch(/^Sort .*rows=25 /);
      const [, lastPage] = await plans(search("", 3), ["enable_seqscan", "enable_sort"]);
      expect(lastPage).toMatch(/Index Scan Backward using users_order_idx/);
    });

    it("walks the partial users_required_order_idx for the enrollment-required filter", async () => {
      const [count, page] = await plans(search("", 1, "required"), ["enable_seqscan", "enable_sort"]);
      expect(page).toMatch(/users_required_order_idx/);
      expect(count).toMatch(/users_required_order_idx/);
    });

    it("finds matches of a search through the trigram indexes on name and email, counted and paged in one statement", async () => {
      const statements = await plans(search("stone carol"), ["enable_seqscan", "enable_indexscan", "enable_indexonlyscan"]);
      expect(statements).toHaveLength(1);
      for (const plan of statements) {
        expect(plan).toMatch(/Bitmap Index Scan on users_name_trgm_idx/);
        expect(plan).toMatch(/Bitmap Index Scan on users_email_trgm_idx/);
        expect(plan).not.toMatch(/Seq Scan on users/);
      }
    });
  });
});
