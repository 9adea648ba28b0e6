import { AppHeader } from "@/components/app-header";
import { requireUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { twoFactorStatus } from "@/lib/two-factor/manage";
import { signOutAction } from "./actions";

export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  const status = await twoFactorStatus(await getDb(), user.id);
  return (
    <>
      <AppHeader data={{ name: user.name, email: user.email, ...status }} isAdmin={user.role === "admin"} signOutAction={signOutAction} />
      <main className="mx-auto max-w-5xl px-4 py-8">{children}</main>
    </>
  );
}
