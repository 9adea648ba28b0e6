"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/admin/settings", label: "Settings" },
  { href: "/admin/users", label: "Users" },
  { href: "/admin/audit", label: "Audit log" },
];

/** Administration tabs; the current one is marked for sighted and screen-reader users alike. */
export function AdminNav() {
  const pathname = usePathname();
  return (
    <nav aria-label="Administration" className="mt-2 flex gap-1 border-b border-slate-200 dark:border-slate-800">
      {LINKS.map((link) => {
        const current = pathname.startsWith(link.href);
        return (
          <Link
            key={link.href}
            href={link.href}
            aria-current={current ? "page" : undefined}
            className={`-mb-px border-b-2 px-3 py-2 text-sm font-medium ${current ? "border-brand-600 text-brand-700 dark:text-brand-100" : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-slate-100"}`}
          >
            {link.label}
          </Link>
        );
      })}
    </nav>
  );
}
