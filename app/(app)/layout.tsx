import { AppHeader } from "@/components/app-header";
import { requireUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { twoFactorStatus } from "@/lib/two-factor/manage";
import { signOutAction } from "./actions";

export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  const status = await twoFactorStatus(await getDb(), user.id, user.role);
  return (
    <>
      <AppHeader data={{ name: user.name, email: user.email, ...status }} isAdmin={user.role === "admin"} signOutAction={signOutAction} />
      {status.requiredInDays !== null ? (
        <div role="status" className="border-b border-amber-300 bg-amber-50 px-4 py-2 text-center text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
          {status.requiredInDays > 0
            ? `Two-factor authentication will be required in ${status.requiredInDays} ${status.requiredInDays === 1 ? "day" : "days"}. `
            : "Two-factor authentication is now required for your account. "}
          Set it up in My Settings (profile menu, top right).
        </div>
      ) : null}
      <main className="mx-auto max-w-5xl px-4 py-8">{children}</main>
    </>
  );
}
