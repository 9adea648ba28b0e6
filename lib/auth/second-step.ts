import "server-only";
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Database, Transaction as Tx } from "@/db";
import { auditEvents, instanceSettings, recoveryCodes, signInChallenges, totpCredentials, users, type InstanceSettings } from "@/db/schema";
import { rowsOf } from "@/db/rows";
import { auditedContext, recordEvent, type RequestContext } from "@/lib/audit";
import { consumeChallenge, findChallenge } from "@/lib/auth/challenge";
import { sha256Hex } from "@/lib/crypto";
import { requirementOf } from "@/lib/auth/sign-in";
import { notifyBrowserTrusted, notifyCodeRefused, notifyRecoveryCodeUsed } from "@/lib/notifications/notify";
import { isLockedOut, recordSecondFactorFailure, resetSecondFactorFailures } from "@/lib/two-factor/lockout";
import { hashRecoveryCode, isWellFormedRecoveryCode, normaliseRecoveryCode } from "@/lib/two-factor/recovery-codes";
import { checkTotpCode } from "@/lib/two-factor/totp";
import { consumeTimeStep } from "@/lib/two-factor/time-step";
import { readTotpSecret } from "@/lib/two-factor/totp-secret";
import { findTrustedBrowser, forgetTrustedBrowsers, markTrustedBrowserUsed, trustBrowser } from "@/lib/two-factor/trusted-browsers";
import { getSettings } from "@/lib/settings";

/**
 * "enrolled": the forced enrollment of this very challenge was just confirmed with a code.
 * "trusted": a trusted-browser token stands in for the code (never for the password).
 */
export type SecondStepMethod = "totp" | "recovery" | "none" | "enrolled" | "trusted";
export type SecondStepError = "challenge_expired" | "code_invalid" | "recovery_invalid" | "locked_out" | "not_trusted";
export type SecondStepInput = { challenge: string; method: SecondStepMethod; code: string; trust?: boolean; trustToken?: string };
export type SignedInUser = { id: string; name: string; email: string; role: "admin" | "user"; sessionVersion: number };
/** `trustToken`: set when the user asked to trust this browser; the caller puts it in a cookie. */
export type SecondStepResult = { ok: true; user: SignedInUser; trustToken?: string } | { ok: false; error: SecondStepError };

/** Thrown inside a transaction to roll it back when a parallel request won a race. */
class LostRace extends Error {
  constructor(readonly what: "challenge" | "factor" | "lock") {
    super(what);
  }
}
type Finished = SecondStepResult | { ok: false; lost: "factor" };

/**
 * Step 2, called only from Auth.js `authorize()`: the session is issued if
 * and only if this returns ok. `method: "none"` is for users who owe no
 * second factor — re-checked here, never taken from the browser.
 */
export async function completeSignIn(
  db: Database,
  input: SecondStepInput,
  context: RequestContext,
): Promise<SecondStepResult> {
  const row = await loadChallenge(db, input.challenge);
  if (!row) return { ok: false, error: "challenge_expired" };
  const { user, credential, challenge } = row;
  // The settings row comes with the challenge; only before the first settings read ever is it missing.
  const settings = row.settings ?? (await getSettings(db));
  if (challenge.purpose === "enroll" || input.method === "enrolled") {
    // Only an enrollment confirmed after this password step completes it (the code was checked then).
    const enrolledNow = !!credential?.enabledAt && credential.enabledAt >= challenge.createdAt;
    if (challenge.purpose !== "enroll" || input.method !== "enrolled" || !enrolledNow) return { ok: false, error: "challenge_expired" };
    const result = await finish(db, input.challenge, user, context, { factor: "totp_enrollment" }, async () => true);
    return "lost" in result ? { ok: false, error: "challenge_expired" } : result;
  }
  const requirement = requirementOf(settings, { enabledAt: credential?.enabledAt ?? null, required: user.twoFactorRequired, role: user.role });
  if (input.method === "none" || requirement !== "code") {
    // Whatever the browser asked for, only a user who owes nothing more gets in with the password alone.
    if (requirement !== "none" || input.method !== "none") return { ok: false, error: "challenge_expired" };
    const result = await finish(db, input.challenge, user, context, { factor: "password" }, async () => true);
    return "lost" in result ? { ok: false, error: "challenge_expired" } : result;
  }
  if (input.method === "trusted") return signInWithTrustedBrowser(db, input, user, settings, context);
  if (isLockedOut(user)) return { ok: false, error: "locked_out" };

  if (input.method === "totp") {
    const secret = readTotpSecret(credential!.secretCiphertext, user.id);
    if (secret === null) return fail(db, user.id, "code_invalid", context, "sign_in.code_failed");
    const check = checkTotpCode(secret, input.code, credential!.lastUsedStep, Math.floor(Date.now() / 1000));
    if (check.result === "invalid") return fail(db, user.id, "code_invalid", context, "sign_in.code_failed");
    if (check.result === "replayed") return fail(db, user.id, "code_invalid", context, "sign_in.code_replayed");
    if (!input.trust || !settings.trustBrowserEnabled) {
      const outcome = await finishWithTotpCode(db, input.challenge, user.id, check.timeStep, context);
      if (outcome === "factor") return fail(db, user.id, "code_invalid", context, "sign_in.code_replayed");
      if (outcome !== "ok") return { ok: false, error: outcome === "lock" ? "locked_out" : "challenge_expired" };
      return { ok: true, user: signedInUser(user), trustToken: undefined }; // trust was not asked for, or is not allowed
    }
    let trustToken: string | undefined;
    const result = await finish(db, input.challenge, user, context, { factor: "totp" }, async (tx) => {
      if (!(await consumeTimeStep(tx, user.id, check.timeStep))) return false;
      trustToken = await trustBrowser(tx, user.id, settings.trustBrowserDays, context);
      return true;
    });
    // Lost the compare-and-set: the same code was just accepted by a parallel request.
    if ("lost" in result) return fail(db, user.id, "code_invalid", context, "sign_in.code_replayed");
    if (!result.ok) return result;
    await notifyBrowserTrusted(db, user, context, settings.trustBrowserDays);
    return { ...result, trustToken };
  }

  const normalised = normaliseRecoveryCode(input.code);
  if (!isWellFormedRecoveryCode(normalised)) return fail(db, user.id, "recovery_invalid", context, "sign_in.code_failed");
  const codeHash = hashRecoveryCode(user.id, normalised);
  const result = await finish(db, input.challenge, user, context, { factor: "recovery_code" }, async (tx) => {
    const used = await tx
      .update(recoveryCodes)
      .set({ usedAt: sql`now()` })
      .where(and(eq(recoveryCodes.userId, user.id), eq(recoveryCodes.codeHash, codeHash), isNull(recoveryCodes.usedAt)))
      .returning({ id: recoveryCodes.id });
    if (used.length !== 1) return false;
    await recordEvent(tx, "recovery_code.used", { actorUserId: user.id, targetUserId: user.id }, context);
    // A recovery code means the authenticator may be lost: no browser stays trusted.
    await forgetTrustedBrowsers(tx, user.id, null, user.id, context, "recovery_code_used");
    return true;
  });
  if ("lost" in result) return fail(db, user.id, "recovery_invalid", context, "sign_in.code_failed");
  if (result.ok) await notifyRecoveryCodeUsed(db, user, context);
  return result;
}

/** The code step skipped by a trusted browser of this very user, still honoured now. */
async function signInWithTrustedBrowser(
  db: Database,
  input: SecondStepInput,
  user: typeof users.$inferSelect,
  settings: InstanceSettings,
  context: RequestContext,
): Promise<SecondStepResult> {
  const trusted = await findTrustedBrowser(db, user.id, input.trustToken ?? "", settings);
  if (!trusted) return { ok: false, error: "not_trusted" };
  const result = await finish(db, input.challenge, user, context, { factor: "trusted_browser" }, async (tx) => {
    await markTrustedBrowserUsed(tx, trusted.id);
    return true;
  });
  return "lost" in result ? { ok: false, error: "challenge_expired" } : result;
}

async function loadChallenge(db: Database, token: string) {
  if (!token || token.length > 100) return null;
  const [row] = await db
    .select({ user: users, credential: totpCredentials, challenge: signInChallenges, settings: instanceSettings })
    .from(signInChallenges)
    .innerJoin(users, eq(users.id, signInChallenges.userId))
    .leftJoin(totpCredentials, eq(totpCredentials.userId, users.id))
    .leftJoin(instanceSettings, eq(instanceSettings.id, 1))
    .where(
      and(
        eq(signInChallenges.tokenHash, sha256Hex(token)),
        gt(signInChallenges.expiresAt, sql`now()`),
      ),
    );
  return row ?? null;
}

/**
 * The success path, all or nothing: consume the factor, consume the challenge,
 * reset the lockout counter (refused if a lock began meanwhile), audit.
 */
async function finish(
  db: Database,
  challenge: string,
  user: typeof users.$inferSelect,
  context: RequestContext,
  details: { factor: string },
  consumeFactor: (tx: Tx) => Promise<boolean>,
): Promise<Finished> {
  try {
    await db.transaction(async (tx) => {
      if (!(await consumeChallenge(tx, challenge))) throw new LostRace("challenge");
      if (!(await consumeFactor(tx))) throw new LostRace("factor");
      const usedCode = details.factor === "totp" || details.factor === "recovery_code";
      if (usedCode && !(await resetSecondFactorFailures(tx, user.id))) throw new LostRace("lock");
      await recordEvent(tx, "sign_in.succeeded", { actorUserId: user.id, targetUserId: user.id }, context, details);
    });
  } catch (error) {
    if (!(error instanceof LostRace)) throw error;
    if (error.what === "factor") return { ok: false, lost: "factor" };
    return { ok: false, error: error.what === "lock" ? "locked_out" : "challenge_expired" };
  }
  return { ok: true, user: signedInUser(user) };
}

function signedInUser({ id, name, email, role, sessionVersion }: typeof users.$inferSelect): SignedInUser {
  return { id, name, email, role, sessionVersion };
}

/**
 * The common success, a TOTP code without "Trust this browser", in one
 * statement instead of a transaction of six: the busiest write of the app
 * (docs/PERFORMANCE.md). Each step runs only if the one before it changed a
 * row, in this order:
 *   1. the time step moves forward by compare-and-set (RFC 6238 §5.2: of
 *      parallel requests with this code, one wins), while the challenge lives;
 *   2. the challenge is deleted (of parallel requests on one challenge, one
 *      wins: exactly one session per password step);
 *   3. the failure counter is reset, unless a lock began meanwhile;
 *   4. the sign-in is audited.
 * A single statement is atomic on its own. When a later step finds nothing
 * to change, the earlier ones stay done: a code consumed without a session,
 * or a challenge used up by a lock. Both only ever take something away from
 * whoever sent the request, never grant it.
 */
async function finishWithTotpCode(
  db: Database,
  challenge: string,
  userId: string,
  timeStep: number,
  context: RequestContext,
): Promise<"ok" | "factor" | "challenge" | "lock"> {
  const tokenHash = sha256Hex(challenge);
  const { ip, userAgent } = auditedContext(context);
  const live = sql`${signInChallenges.tokenHash} = ${tokenHash} and ${signInChallenges.expiresAt} > now()`;
  const result = await db.execute(sql`
    with factor as (
      update ${totpCredentials} set last_used_step = ${timeStep}
      where ${totpCredentials.userId} = ${userId}
        and (${totpCredentials.lastUsedStep} is null or ${totpCredentials.lastUsedStep} < ${timeStep})
        and exists (select 1 from ${signInChallenges} where ${live})
      returning user_id
    ), challenge as (
      delete from ${signInChallenges} where ${live} and exists (select 1 from factor) returning user_id
    ), unlocked as (
      update ${users} set second_factor_failures = 0, second_factor_lockouts = 0, second_factor_locked_until = null
      where ${users.id} = (select user_id from challenge)
        and (${users.secondFactorLockedUntil} is null or ${users.secondFactorLockedUntil} <= now())
      returning id
    ), audited as (
      insert into ${auditEvents} (event, actor_user_id, target_user_id, ip, user_agent, details)
      select 'sign_in.succeeded', id, id, ${ip}, ${userAgent}, ${JSON.stringify({ factor: "totp" })}::jsonb
      from unlocked
      returning id
    )
    select (select count(*)::int from factor) as factor, (select count(*)::int from challenge) as challenge,
           (select count(*)::int from audited) as audited`);
  const [row] = rowsOf<{ factor: number; challenge: number; audited: number }>(result);
  if (Number(row?.audited) === 1) return "ok";
  if (Number(row?.challenge) === 1) return "lock";
  // The challenge is checked in step 1 too: no factor change means a lost compare-and-set or a dead challenge.
  if (Number(row?.factor) === 1) return "challenge";
  return (await findChallenge(db, challenge)) ? "factor" : "challenge";
}

/**
 * A refused code: counted towards the lockout and audited in one transaction;
 * then the user is told by mail (at most once an hour) — only a correct
 * password leads here, so the mail means the password is known.
 */
async function fail(
  db: Database,
  userId: string,
  error: SecondStepError,
  context: RequestContext,
  event: "sign_in.code_failed" | "sign_in.code_replayed",
): Promise<SecondStepResult> {
  const locked = await db.transaction(async (tx) => {
    const nowLocked = await recordSecondFactorFailure(tx, userId);
    await recordEvent(tx, event, { targetUserId: userId }, context);
    if (nowLocked) await recordEvent(tx, "sign_in.locked_out", { targetUserId: userId }, context);
    return nowLocked;
  });
  await notifyCodeRefused(db, userId, context, locked);
  return { ok: false, error: locked ? "locked_out" : error };
}
