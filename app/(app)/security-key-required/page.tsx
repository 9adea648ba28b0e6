import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { Card } from "@/components/ui/card";
import { OpenMySettingsButton } from "@/components/open-my-settings";
import { adminKeyMissing } from "@/lib/admin/key-policy";
import { requireUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";

export const metadata: Metadata = { title: "Add a security key" };

/**
 * Where Administration sends an administrator the instance requires a security
 * key of, while they have none: what to do, and the way to do it. Once they
 * have a key, Administration is theirs again.
 */
export default async function SecurityKeyRequiredPage() {
  const user = await requireUser();
  if (user.role !== "admin" || !(await adminKeyMissing(await getDb(), user.id))) redirect(user.role === "admin" ? "/admin/users" : "/");
  return (
    <div className="flex flex-col gap-6">
      <h1 className="text-2xl font-semibold">Add a security key to use Administration</h1>
      <Card>
        <p className="text-sm text-slate-700 dark:text-slate-300">
          This instance requires administrators to sign in with a security key or passkey: it cannot be phished by a fake
          sign-in page. Add one in My Settings → Security keys; Administration opens again as soon as it is saved.
        </p>
        <div className="mt-4">
          <OpenMySettingsButton>Add a security key</OpenMySettingsButton>
        </div>
      </Card>
    </div>
  );
}
