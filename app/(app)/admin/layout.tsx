import { AdminNav } from "@/components/admin/admin-nav";
import { requireAdmin } from "@/lib/auth/session";

export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  await requireAdmin();
  return (
    <div className="flex flex-col gap-6">
      <div>
        <p className="text-sm text-slate-600 dark:text-slate-400">Administration</p>
        <AdminNav />
      </div>
      {children}
    </div>
  );
}
