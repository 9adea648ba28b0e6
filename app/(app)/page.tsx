import type { Metadata } from "next";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { OpenMySettingsButton } from "@/components/open-my-settings";
import { requireUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { twoFactorStatus } from "@/lib/two-factor/manage";

export const metadata: Metadata = { title: "Home" };

export default async function HomePage() {
  const user = await requireUser();
  const status = await twoFactorStatus(await getDb(), user.id, user.role);
  return (
    <div className="flex flex-col gap-6">
      <h1 className="text-2xl font-semibold">Welcome, {user.name}</h1>
      <Card>
        <div className="flex items-center gap-2">
          <h2 className="font-semibold">Your sign-in</h2>
          {status.instanceEnabled ? <Badge tone={status.enabled ? "success" : "warning"}>{status.enabled ? "Two-factor on" : "Two-factor off"}</Badge> : null}
        </div>
        <p className="mt-2 text-sm text-slate-700 dark:text-slate-300">
          {!status.instanceEnabled
            ? "Two-factor authentication is turned off for this instance."
            : status.enabled
              ? `Two-factor authentication is on. ${status.recoveryCodesLeft} recovery ${status.recoveryCodesLeft === 1 ? "code" : "codes"} left.`
              : "Two-factor authentication is off: anyone with your password can sign in as you."}
        </p>
        {status.instanceEnabled && !status.enabled ? (
          <div className="mt-4">
            <OpenMySettingsButton>Set up two-factor authentication</OpenMySettingsButton>
          </div>
        ) : null}
      </Card>
    </div>
  );
}
