import "server-only";
import { eq } from "drizzle-orm";
import type { Executor } from "@/db";
import { instanceSettings, totpCredentials, users, type InstanceSettings } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { createChallenge } from "@/lib/auth/challenge";
import { verifyPassword } from "@/lib/auth/password";
import { isRateLimited, recordFailure, type RateLimit } from "@/lib/rate-limit";
import { getSettings } from "@/lib/settings";
import { policyStatus } from "@/lib/two-factor/policy";

const HOUR_SECONDS = 60 * 60;
/** Per account: ≤ 100 failed passwords an hour (NIST SP 800-63B-4 §3.2.2 throttling). */
export const PASSWORD_FAILURES_PER_ACCOUNT = 100;
/** Per IP: generous, offices share addresses; stops one host spraying many accounts. */
export const PASSWORD_FAILURES_PER_IP = 300;

function passwordLimits(email: string, ip: string | null): RateLimit[] {
  const limits = [{ key: `password:account:${email}`, limit: PASSWORD_FAILURES_PER_ACCOUNT, windowSeconds: HOUR_SECONDS }];
  if (ip) limits.push({ key: `password:ip:${ip}`, limit: PASSWORD_FAILURES_PER_IP, windowSeconds: HOUR_SECONDS });
  return limits;
}

export type PasswordStepResult =
  | { ok: false }
  | { ok: true; userId: string; challenge: string; secondFactorDue: boolean; enrollmentDue: boolean };

/**
 * Step 1. Checks the password and, when right, opens a 5-minute challenge for
 * step 2. Unknown email, wrong password and rate-limited all return `{ ok: false }`
 * after the same argon2 work, so the answer reveals nothing.
 */
export async function passwordStep(
  db: Executor,
  input: { email: string; password: string },
  context: RequestContext,
): Promise<PasswordStepResult> {
  const limits = passwordLimits(input.email, context.ip);
  // The user, their credential and the instance settings in one query: what step 2 must be is known without another.
  const [limited, [user]] = await Promise.all([
    isRateLimited(db, limits),
    db
      .select({
        id: users.id,
        passwordHash: users.passwordHash,
        required: users.twoFactorRequired,
        role: users.role,
        enabledAt: totpCredentials.enabledAt,
        settings: instanceSettings,
      })
      .from(users)
      .leftJoin(totpCredentials, eq(totpCredentials.userId, users.id))
      .leftJoin(instanceSettings, eq(instanceSettings.id, 1))
      .where(eq(users.email, input.email)),
  ]);
  const passwordOk = await verifyPassword(limited ? null : (user?.passwordHash ?? null), input.password);
  if (!passwordOk || !user) {
    await recordFailure(db, limits);
    await recordEvent(db, "sign_in.password_failed", { targetUserId: user?.id ?? null }, context, {
      reason: limited ? "rate_limited" : "bad_credentials",
    });
    return { ok: false };
  }
  // No settings row before the first settings read ever: read (and create) it then.
  const requirement = requirementOf(user.settings ?? (await getSettings(db)), user);
  const challenge = await createChallenge(db, user.id, requirement === "enroll" ? "enroll" : "sign_in");
  return {
    ok: true,
    userId: user.id,
    challenge,
    secondFactorDue: requirement === "code",
    enrollmentDue: requirement === "enroll",
  };
}

/** What must follow a correct password: nothing, a code, or enrollment first. */
export type SignInRequirement = "none" | "code" | "enroll";

/**
 * With the instance switch on: a code when the user has a confirmed TOTP
 * credential; enrollment when an admin required 2FA of a user who has none,
 * or the enforcement policy's grace period for them is over.
 * With it off: nothing (enrolled secrets are kept for when it is back on).
 */
export async function signInRequirement(db: Executor, userId: string): Promise<SignInRequirement> {
  const [settings, [row]] = await Promise.all([
    getSettings(db),
    db
      .select({ enabledAt: totpCredentials.enabledAt, required: users.twoFactorRequired, role: users.role })
      .from(users)
      .leftJoin(totpCredentials, eq(totpCredentials.userId, users.id))
      .where(eq(users.id, userId)),
  ]);
  return row ? requirementOf(settings, row) : "none";
}

/** The rule of signInRequirement, for callers that already read the settings and the user. */
export function requirementOf(
  settings: InstanceSettings,
  user: { enabledAt: Date | null; required: boolean; role: "admin" | "user" },
): SignInRequirement {
  if (!settings.twoFactorEnabled) return "none";
  if (user.enabledAt) return "code";
  if (user.required || policyStatus(settings, user.role).kind === "due") return "enroll";
  return "none";
}

/** A code is asked for when the instance has 2FA on and the user has a confirmed TOTP credential. */
export async function isSecondFactorDue(db: Executor, userId: string): Promise<boolean> {
  return (await signInRequirement(db, userId)) === "code";
}
