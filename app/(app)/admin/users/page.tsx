import type { Metadata } from "next";
import { Card } from "@/components/ui/card";
import { requireAdmin } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { listUsers } from "@/lib/users";
import { AddUserDialog } from "./add-user-dialog";
import { UserRowActions } from "./user-row-actions";

export const metadata: Metadata = { title: "Users" };

export default async function UsersPage() {
  await requireAdmin();
  const rows = await listUsers(await getDb());
  return (
    <div className="flex flex-col gap-4">
      <div className="flex items-center justify-between gap-4">
        <h1 className="text-2xl font-semibold">Users</h1>
        <AddUserDialog />
      </div>
      <Card padded={false} className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <thead className="border-b border-slate-200 text-slate-600 dark:border-slate-800 dark:text-slate-400">
            <tr>
              <th scope="col" className="px-4 py-3 font-medium whitespace-nowrap">Name</th>
              <th scope="col" className="px-4 py-3 font-medium whitespace-nowrap">Email</th>
              <th scope="col" className="px-4 py-3 font-medium whitespace-nowrap">Role</th>
              <th scope="col" className="px-4 py-3 font-medium whitespace-nowrap">Two-factor</th>
              <th scope="col" className="px-4 py-3 font-medium whitespace-nowrap">
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
                <td className="px-4 py-3">{row.twoFactorEnabled ? "Enabled" : "Off"}</td>
                <td className="px-2 py-1 text-right">
                  <UserRowActions userId={row.id} userName={row.name} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}
