import type { Metadata } from "next";
import Link from "next/link";
import { Badge } from "@/components/ui/badge";
import { SubmitButton } from "@/components/ui/button";
import { linkClass } from "@/components/ui/button-class";
import { Card } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { inputClass } from "@/components/ui/input-class";
import { SearchForm } from "@/components/ui/search-form";
import { tableClass, tableHeadClass, tableRowClass } from "@/components/ui/table-class";
import { requireAdmin } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { countEnrolledUsers, searchUsers, type UserSearchResult, type UserSearchRow } from "@/lib/users";
import { passwordMinLength } from "@/lib/validation/password-policy";
import { parseUserSearch, USER_SEARCH_MAX_LENGTH, type UserSearch } from "@/lib/validation/user-search";
import { AddUserDialog } from "./add-user-dialog";
import { UserRowActions } from "./user-row-actions";

export const metadata: Metadata = { title: "Users" };

const FILTER_LABELS = { all: "All users", on: "Two-factor on", off: "Two-factor off", required: "Enrollment required", key: "Security key" } as const;

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
        <AddUserDialog passwordMinLength={passwordMinLength()} />
      </div>
      <SearchForm action="/admin/users" role="search" className="flex flex-wrap items-end gap-3">
        <div className="flex w-full flex-col gap-1 text-sm sm:w-72">
          <label htmlFor="users-query" className="font-medium">
            Search
          </label>
          <input id="users-query" name="query" type="search" defaultValue={search.query} maxLength={USER_SEARCH_MAX_LENGTH} placeholder="Name or email" className={inputClass} />
        </div>
        <div className="flex flex-col gap-1 text-sm">
          <label htmlFor="users-filter" className="font-medium">
            Two-factor
          </label>
          <select id="users-filter" name="filter" defaultValue={search.filter} className={inputClass}>
            {Object.entries(FILTER_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <SubmitButton variant="secondary">Search</SubmitButton>
      </SearchForm>
      <Card padded={false} className="overflow-hidden">
        {result.rows.length > 0 ? <UsersTable rows={result.rows} /> : <NoUsers search={search} />}
      </Card>
      <Pages search={search} result={result} />
    </div>
  );
}

// Name and email share a cell, and the role is a badge beside the name: three columns fit a
// 375 px phone, so Two-factor and Actions are on screen without scrolling sideways.
function UsersTable({ rows }: { rows: UserSearchRow[] }) {
  return (
    <table className={tableClass}>
      <thead className={tableHeadClass}>
        <tr>
          <th scope="col" className="px-3 py-2.5 font-medium sm:px-4">
            User
          </th>
          <th scope="col" className="px-3 py-2.5 font-medium whitespace-nowrap sm:px-4">
            Two-factor
          </th>
          <th scope="col" className="px-3 py-2.5 sm:px-4">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.id} className={tableRowClass}>
            <td className="px-3 py-3 sm:px-4">
              <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
                <span className="font-medium">{row.name}</span>
                <Badge tone={row.role === "admin" ? "brand" : "neutral"}>{row.role === "admin" ? "Administrator" : "User"}</Badge>
              </div>
              <div className="break-all text-slate-600 dark:text-slate-400">{row.email}</div>
            </td>
            <td className="px-3 py-3 sm:px-4">
              <div className="flex flex-wrap items-center gap-1">
                <TwoFactorBadge row={row} />
                <SecurityKeyBadge count={row.securityKeys} />
              </div>
            </td>
            <td className="px-2 py-2 text-right sm:px-4">
              <UserRowActions userId={row.id} userName={row.name} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TwoFactorBadge({ row }: { row: UserSearchRow }) {
  if (row.twoFactorEnabled) return <Badge tone="success">Enabled</Badge>;
  if (row.twoFactorRequired) return <Badge tone="warning">Enrollment required</Badge>;
  return <Badge>Off</Badge>;
}

/** Beside the 2FA state, and only when there is one: most users have no key, and a column of "0 keys" says nothing. */
function SecurityKeyBadge({ count }: { count: number }) {
  if (count === 0) return null;
  return <Badge>{count === 1 ? "1 key" : `${count} keys`}</Badge>;
}

function NoUsers({ search }: { search: UserSearch }) {
  return (
    <EmptyState title="No users match">
      {search.query ? <>Nobody’s name or email contains “{search.query}”. </> : null}
      <Link href="/admin/users" className={linkClass}>
        Show all users
      </Link>
    </EmptyState>
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
        {page > 1 ? <Link href={href(page - 1)} className={linkClass}>Previous</Link> : null}
        {page < pageCount ? <Link href={href(page + 1)} className={linkClass}>Next</Link> : null}
      </span>
    </nav>
  );
}
