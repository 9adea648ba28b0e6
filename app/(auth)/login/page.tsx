import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { findChallenge, type ChallengePurpose } from "@/lib/auth/challenge";
import { readChallengeCookie } from "@/lib/auth/challenge-cookie";
import { currentUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { getSettings } from "@/lib/settings";
import { factorsOf, type Factors } from "@/lib/two-factor/factors";
import { Logo } from "@/components/ui/logo";
import { Notice } from "@/components/ui/notice";
import { safeCallbackPath } from "@/lib/validation/callback-url";
import { messageOf } from "./form-answer";
import { LoginFlow } from "./login-flow";

export const metadata: Metadata = { title: "Sign in" };

const NO_FACTORS: Factors = { totp: true, keys: false };
const METHODS = ["security_key", "totp", "recovery"] as const;

/**
 * The step a reload lands on. An "enrolled" challenge lost its recovery codes with the
 * page (they are shown once); 2FA is on now, so a code from the new app finishes it.
 */
function stepOf(purpose: ChallengePurpose | undefined): "password" | "code" | "enroll" {
  if (!purpose) return "password";
  return purpose === "enroll" ? "enroll" : "code";
}

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[]>> }) {
  const params = await searchParams;
  const callbackUrl = safeCallbackPath(params.callbackUrl);
  if (await currentUser()) redirect(callbackUrl);
  const token = await readChallengeCookie();
  const db = await getDb();
  const [challenge, settings] = await Promise.all([token ? findChallenge(db, token) : null, getSettings(db)]);
  const trustDays = settings.trustBrowserEnabled ? settings.trustBrowserDays : null;
  const factors = challenge?.purpose === "sign_in" ? await factorsOf(db, challenge.userId) : NO_FACTORS;
  // What a form posted without JavaScript left for this page (./form-answer.ts): a catalogue key, a way to finish.
  const method = METHODS.find((m) => m === params.method) ?? null;
  return (
    <main className="flex min-h-screen items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm">
        <p className="mb-6 flex justify-center text-lg">
          <Logo />
        </p>
        {params.expired ? (
          <Notice tone="warning" className="mb-4">
            Your sign-in expired. Please sign in again.
          </Notice>
        ) : null}
        {params.setup === "done" ? (
          <Notice tone="success" className="mb-4">
            Administrator created. Sign in to continue.
          </Notice>
        ) : null}
        <LoginFlow
          initialStep={stepOf(challenge?.purpose)}
          initialFactors={factors}
          initialMessage={messageOf(params.error)}
          initialMethod={method}
          callbackUrl={callbackUrl}
          trustDays={trustDays}
          passkeys={settings.passkeySignInEnabled}
        />
      </div>
    </main>
  );
}
