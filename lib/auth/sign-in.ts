import "server-only";
import { eq, sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { preparedPerDatabase } from "@/db/prepared";
import { instanceSettings, totpCredentials, users, type InstanceSettings } from "@/db/schema";
import { recordEvent, type RequestContext } from "@/lib/audit";
import { createChallenge } from "@/lib/auth/challenge";
import { verifyPassword } from "@/lib/auth/password";
import { knownDeviceCookie, knownDeviceOf } from "@/lib/auth/known-device";
import { clearFailures, reserveFailure, type FailureCounter, type FailurePolicy } from "@/lib/auth/password-failures";
import { releaseAttempt, reserveAttempt, type RateLimit } from "@/lib/rate-limit";
import { getSettings } from "@/lib/settings";
import { hasAnyFactor, hasSecurityKeySql, type Factors } from "@/lib/two-factor/factors";
import { policyStatus } from "@/lib/two-factor/policy";

/**
 * Per account (or per known browser): 100 consecutive wrong passwords, the
 * NIST SP 800-63B-4 §3.2.2 maximum; then a lock of an hour, doubling, with 10
 * more after each (lib/auth/password-failures.ts). A success forgets them.
 */
export const PASSWORD_FAILURES_PER_ACCOUNT = 100;
const ACCOUNT_POLICY: FailurePolicy = { first: PASSWORD_FAILURES_PER_ACCOUNT, afterLock: 10 };
/** Per IP, an hour: generous, offices share addresses; stops one host spraying many accounts. */
export const PASSWORD_FAILURES_PER_IP = 300;

const ipLimit = (ip: string): RateLimit => ({ key: `password:ip:${ip}`, limit: PASSWORD_FAILURES_PER_IP, windowSeconds: 60 * 60 });

/**
 * Which counter a failure lands on: the account's, or — for a browser that
 * proved this user's password before — that browser's own. A stranger who
 * locks the account therefore does not lock out the owner's browsers.
 */
function failureCounter(userId: string, knownDevice: string | undefined): FailureCounter {
  const deviceId = knownDeviceOf(knownDevice, userId);
  return { userId, counter: deviceId ? `device:${deviceId}` : "sign-in" };
}

export type PasswordStepResult =
  | { ok: false }
  | { ok: true; userId: string; challenge: string; secondFactorDue: boolean; enrollmentDue: boolean; factors: Factors; knownDevice: string };

/**
 * Step 1. Checks the password and, when right, opens a 5-minute challenge for
 * step 2, and returns the known-device cookie to set. Each attempt is counted
 * (per IP, then per account or known browser) before the password is
 * checked; a limited attempt is not checked. Unknown email, wrong password
 * and limited all return `{ ok: false }` after the same argon2 work, so the
 * answer reveals nothing.
 */
export async function passwordStep(
  db: Executor,
  input: { email: string; password: string; knownDevice?: string },
  context: RequestContext,
): Promise<PasswordStepResult> {
  // The user, their credential and the instance settings in one query: what step 2 must be is known without another.
  const [ipAllowed, [user]] = await Promise.all([
    context.ip ? reserveAttempt(db, ipLimit(context.ip)) : true,
    accountByEmail(db).execute({ email: input.email }),
  ]);
  const counter = user ? failureCounter(user.id, input.knownDevice) : null;
  // An unknown email has no account to lock; the per-IP limit covers spraying made-up ones.
  const allowed = ipAllowed && (!counter || (await reserveFailure(db, counter, ACCOUNT_POLICY)));
  const passwordOk = await verifyPassword(allowed ? (user?.passwordHash ?? null) : null, input.password);
  if (!passwordOk || !user || !counter) {
    await recordEvent(db, "sign_in.password_failed", { targetUserId: user?.id ?? null }, context, {
      reason: allowed ? "bad_credentials" : "rate_limited",
    });
    return { ok: false };
  }
  await Promise.all([clearFailures(db, counter), context.ip ? releaseAttempt(db, ipLimit(context.ip)) : null]);
  // No settings row before the first settings read ever: read (and create) it then.
  const factors: Factors = { totp: !!user.enabledAt, keys: user.hasKey };
  const requirement = requirementOf(user.settings ?? (await getSettings(db)), { ...user, factors });
  // Only while the account is as the password was checked against: a change meanwhile (a new password) wins.
  const challenge = await createChallenge(db, user.id, requirement === "enroll" ? "enroll" : "sign_in", user);
  if (!challenge) return { ok: false };
  return {
    ok: true,
    userId: user.id,
    challenge,
    secondFactorDue: requirement === "code",
    enrollmentDue: requirement === "enroll",
    // What the code step offers, read with the password's query: no second query for it.
    factors,
    knownDevice: knownDeviceCookie(user.id, input.knownDevice),
  };
}

// Prepared (db/prepared.ts): the lookup of every password step.
const accountByEmail = preparedPerDatabase((db: Executor) =>
  db
    .select({
      id: users.id,
      passwordHash: users.passwordHash,
      sessionVersion: users.sessionVersion,
      required: users.twoFactorRequired,
      role: users.role,
      enabledAt: totpCredentials.enabledAt,
      hasKey: hasSecurityKeySql(users.id),
      settings: instanceSettings,
    })
    .from(users)
    .leftJoin(totpCredentials, eq(totpCredentials.userId, users.id))
    .leftJoin(instanceSettings, eq(instanceSettings.id, 1))
    .where(eq(users.email, sql.placeholder("email")))
    .prepare("account_by_email"),
);

/** What must follow a correct password: nothing, a second factor ("code": an app's code, a key, a recovery code), or enrollment first. */
export type SignInRequirement = "none" | "code" | "enroll";

/**
 * With the instance switch on: a second factor when the user has one (a
 * confirmed TOTP credential or a security key); enrollment when an admin required 2FA of a user who has none,
 * or the enforcement policy's grace period for them is over.
 * With it off: nothing (enrolled secrets are kept for when it is back on).
 */
export async function signInRequirement(db: Executor, userId: string): Promise<SignInRequirement> {
  const [settings, [row]] = await Promise.all([
    getSettings(db),
    db
      .select({ enabledAt: totpCredentials.enabledAt, hasKey: hasSecurityKeySql(users.id), required: users.twoFactorRequired, role: users.role })
      .from(users)
      .leftJoin(totpCredentials, eq(totpCredentials.userId, users.id))
      .where(eq(users.id, userId)),
  ]);
  return row ? requirementOf(settings, { ...row, factors: { totp: !!row.enabledAt, keys: row.hasKey } }) : "none";
}

/** The rule of signInRequirement, for callers that already read the settings and the user. */
export function requirementOf(
  settings: InstanceSettings,
  user: { factors: Factors; required: boolean; role: "admin" | "user" },
): SignInRequirement {
  if (!settings.twoFactorEnabled) return "none";
  if (hasAnyFactor(user.factors)) return "code";
  if (user.required || policyStatus(settings, user.role).kind === "due") return "enroll";
  return "none";
}

/** A second factor is asked for when the instance has 2FA on and the user has one. */
export async function isSecondFactorDue(db: Executor, userId: string): Promise<boolean> {
  return (await signInRequirement(db, userId)) === "code";
}
