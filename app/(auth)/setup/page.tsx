import type { Metadata } from "next";
import { Card } from "@/components/ui/card";
import { Logo } from "@/components/ui/logo";
import { getDb } from "@/lib/db";
import { isSetupPending } from "@/lib/setup";
import { MESSAGES } from "@/lib/validation/messages";
import { passwordMinLength } from "@/lib/validation/password-policy";
import { SetupForm } from "./setup-form";

export const metadata: Metadata = { title: "Set up" };

export default async function SetupPage({ searchParams }: { searchParams: Promise<Record<string, string | string[]>> }) {
  const { token } = await searchParams;
  const valid = typeof token === "string" && (await isSetupPending(await getDb(), token));
  return (
    <main className="flex min-h-screen items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm">
        <p className="mb-6 flex justify-center text-lg">
          <Logo />
        </p>
        <Card>
          <h1 className="mb-4 text-xl font-semibold">Create the administrator</h1>
          {valid ? (
            <SetupForm token={token} passwordMinLength={passwordMinLength()} />
          ) : (
            <p className="text-sm text-slate-700 dark:text-slate-300">
              {MESSAGES.setupTokenInvalid} Restart the server with an empty database to get a new link, or use{" "}
              <code>npm run cli -- create-user</code>.
            </p>
          )}
        </Card>
      </div>
    </main>
  );
}
