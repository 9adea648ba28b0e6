import type { Metadata } from "next";
import Link from "next/link";
import { Card } from "@/components/ui/card";
import { buttonClass } from "@/components/ui/button-class";
import { requireAdmin } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { countEnrolledUsers, searchUsers, type UserSearchResult, type UserSearchRow } from "@/lib/users";
import { parseUserSearch, USER_SEARCH_MAX_LENGTH, type UserSearch } from "@/lib/validation/user-search";
import { AddUserDialog } from "./add-user-dialog";
import { UserRowActions } from "./user-row-actions";

export const metadata: Metadata = { title: "Users" };

const FILTER_LABELS = { all: "All users", on: "Two-factor on", off: "Two-factor off", required: "Enrollment required" } as const;
const field = "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-600 dark:bg-slate-900";

export default async function UsersPage({ searchParams }: { searchParams: Promise<Record<string, string | string[]>> }) {
  await requireAdmin();
  const search = parseUserSearch(await searchParams);
  const db = await getDb();
  const [result, enrolled] = await Promise.all([searchUsers(db, search), countEnrolledUsers(db)]);
  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Users</h1>
          <p className="text-sm text-slate-600 dark:text-slate-400">{enrolled} with two-factor authentication</p>
        </div>
        <AddUserDialog />
      </div>
      <form method="get" role="search" className="flex flex-wrap items-end gap-3">
        <label className="flex flex-col gap-1 text-sm">
          Search
          <input name="query" type="search" defaultValue={search.query} maxLength={USER_SEARCH_MAX_LENGTH} placeholder="Name or email" className={field} />
        </label>
        <div className="flex flex-col gap-1 text-sm">
          <label htmlFor="users-filter">Two-factor</label>
          <select id="users-filter" name="filter" defaultValue={search.filter} className={field}>
            {Object.entries(FILTER_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className={buttonClass("secondary")}>
          Search
        </button>
      </form>
      <Card padded={false} className="overflow-x-auto">
        {result.rows.length === 0 ? (
          <p className="p-6 text-sm text-slate-600 dark:text-slate-400">No users match.</p>
        ) : (
          <UsersTable rows={result.rows} />
        )}
      </Card>
      <Pages search={search} result={result} />
    </div>
  );
}

function UsersTable({ rows }: { rows: UserSearchRow[] }) {
  return (
    <table className="w-full text-left text-sm">
      <thead className="border-b border-slate-200 text-slate-600 dark:border-slate-800 dark:text-slate-400">
        <tr>
          {["Name", "Email", "Role", "Two-factor"].map((h) => (
            <th key={h} scope="col" className="px-4 py-3 font-medium whitespace-nowrap">
              {h}
            </th>
          ))}
          <th scope="col" className="px-4 py-3">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.id} className="border-b border-slate-100 last:border-0 dark:border-slate-800">
            <td className="px-4 py-3 font-medium whitespace-nowrap">{row.name}</td>
            <td className="px-4 py-3 whitespace-nowrap">{row.email}</td>
            <td className="px-4 py-3">{row.role === "admin" ? "Administrator" : "User"}</td>
            <td className="px-4 py-3 whitespace-nowrap">{row.twoFactorEnabled ? "Enabled" : row.twoFactorRequired ? "Enrollment required" : "Off"}</td>
            <td className="px-2 py-1 text-right">
              <UserRowActions userId={row.id} userName={row.name} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Pages({ search, result }: { search: UserSearch; result: UserSearchResult }) {
  const { page, pageCount, total, capped } = result;
  // Capped: the count stopped at `total`, so both numbers are lower bounds ("Page 1 of 201+ · 5000+ users").
  const more = capped ? "+" : "";
  const href = (target: number) => {
    const params = new URLSearchParams();
    if (search.query) params.set("query", search.query);
    if (search.filter !== "all") params.set("filter", search.filter);
    if (target > 1) params.set("page", String(target));
    return `/admin/users${params.size ? `?${params}` : ""}`;
  };
  return (
    <nav aria-label="Pages" className="flex items-center justify-between text-sm">
      <span>
        {`Page ${page} of ${pageCount}${more} · ${total}${more} ${total === 1 && !capped ? "user" : "users"}`}
      </span>
      <span className="flex gap-3">
        {page > 1 ? <Link href={href(page - 1)}>Previous</Link> : null}
        {page < pageCount ? <Link href={href(page + 1)}>Next</Link> : null}
      </span>
    </nav>
  );
}
