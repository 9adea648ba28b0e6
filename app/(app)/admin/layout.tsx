import Link from "next/link";
import { requireAdmin } from "@/lib/auth/session";

export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  await requireAdmin();
  return (
    <div className="flex flex-col gap-6">
      <div>
        <p className="text-sm text-slate-600 dark:text-slate-400">Administration</p>
        <nav aria-label="Administration" className="mt-2 flex gap-1 border-b border-slate-200 dark:border-slate-800">
          <Link href="/admin/settings" className="px-3 py-2 text-sm font-medium hover:underline">
            Settings
          </Link>
          <Link href="/admin/users" className="px-3 py-2 text-sm font-medium hover:underline">
            Users
          </Link>
        </nav>
      </div>
      {children}
    </div>
  );
}
