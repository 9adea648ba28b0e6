import type { Metadata } from "next";
import { requireAdmin } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { getSettings } from "@/lib/settings";
import { countEnrolledUsers } from "@/lib/users";
import { SecurityForm } from "./security-form";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage() {
  await requireAdmin();
  const db = await getDb();
  const [settings, enrolled] = await Promise.all([getSettings(db), countEnrolledUsers(db)]);
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Settings</h1>
      <SecurityForm
        twoFactorEnabled={settings.twoFactorEnabled}
        trustBrowserEnabled={settings.trustBrowserEnabled}
        trustBrowserDays={settings.trustBrowserDays}
        passkeySignInEnabled={settings.passkeySignInEnabled}
        requireSecurityKeyForAdmins={settings.requireSecurityKeyForAdmins}
        requireTwoFactorFor={settings.requireTwoFactorFor}
        requireGraceDays={settings.requireGraceDays}
        enrolledUsers={enrolled}
      />
    </div>
  );
}
