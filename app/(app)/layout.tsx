import { AppHeader } from "@/components/app-header";
import { Notice } from "@/components/ui/notice";
import { Toaster } from "@/components/ui/toast";
import { requireUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { adminKeyMissing } from "@/lib/admin/key-policy";
import { twoFactorStatus } from "@/lib/two-factor/manage";
import { passwordMinLength } from "@/lib/validation/password-policy";
import { signOutAction } from "./actions";

export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  const db = await getDb();
  const [status, keyMissing] = await Promise.all([twoFactorStatus(db, user.id, user.role), user.role === "admin" ? adminKeyMissing(db, user.id) : false]);
  return (
    <>
      <AppHeader data={{ name: user.name, email: user.email, passwordMinLength: passwordMinLength(), ...status }} isAdmin={user.role === "admin"} signOutAction={signOutAction} />
      {status.requiredInDays !== null ? (
        <Notice tone="warning" live className="rounded-none border-x-0 border-t-0 text-center">
          {status.requiredInDays > 0
            ? `Two-factor authentication will be required in ${status.requiredInDays} ${status.requiredInDays === 1 ? "day" : "days"}. `
            : "Two-factor authentication is now required for your account. "}
          Set it up in My Settings (profile menu, top right).
        </Notice>
      ) : null}
      {keyMissing ? (
        <Notice tone="warning" live className="rounded-none border-x-0 border-t-0 text-center">
          Administration needs a security key: add one in My Settings (profile menu, top right) → Security keys.
        </Notice>
      ) : null}
      <main className="mx-auto max-w-5xl px-4 py-8">{children}</main>
      <Toaster />
    </>
  );
}
