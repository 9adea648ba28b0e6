import { eq, inArray } from "drizzle-orm";
import fc from "fast-check";
import { generateSync } from "otplib";
import { describe, expect, it } from "vitest";
import { signInChallenges, totpCredentials, users } from "@/db/schema";
import { changePassword } from "@/lib/account/password";
import { signOutEverywhere } from "@/lib/account/sessions";
import { saveSecuritySettings } from "@/lib/admin/security-settings";
import type { AdminSession } from "@/lib/admin/step-up";
import { updateUserProperties } from "@/lib/admin/user-properties";
import { completeSignIn, type SecondStepResult } from "@/lib/auth/second-step";
import { passwordStep } from "@/lib/auth/sign-in";
import { sha256Hex } from "@/lib/crypto";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { MAX_SECOND_FACTOR_FAILURES } from "@/lib/two-factor/lockout";
import { disableTwoFactor, regenerateRecoveryCodes } from "@/lib/two-factor/manage";
import { confirmSignInEnrollment, startSignInEnrollment } from "@/lib/two-factor/sign-in-enrollment";
import { testDrivers, useTestDatabase } from "./support/databases";
import { confirmedSession, CONTEXT, currentStep, newUser, userRow, wrongCode, type TestUser } from "./support/fixtures";
import { TOTP_PERIOD_SECONDS } from "@/lib/two-factor/totp";

/** The code of one time step: the model's step and the code sent must be the same step, even across a boundary. */
function codeOf(secret: string, step: number): string {
  return generateSync({ secret, epoch: step * TOTP_PERIOD_SECONDS });
}

/**
 * A model-based test of one account's security state (fast-check `commands`):
 * random sequences of what a user, an attacker with the password and an
 * administrator can do, run against the real lib/ and database, each checked
 * against a small model of what must happen. After every command:
 *   - no session without a factor the model accepts (or none owed);
 *   - a dead challenge stays dead (the model's dead challenges are not in the database);
 *   - the failure counter and the lock are exactly the model's: counted before a code is judged,
 *     only cleared by a success or by the lock running out.
 * Some commands are parallel bursts; after one, the model takes the database's
 * counters once the burst's bounds are checked.
 */

type Purpose = "sign_in" | "enroll" | "enrolled";
type Challenge = { token: string; purpose: Purpose; alive: boolean };
type Model = {
  password: string;
  instanceOn: boolean;
  required: boolean;
  enrolled: boolean;
  secret: string | null;
  lastStep: number | null;
  recovery: string[];
  usedRecovery: string[];
  pending: { secret: string; token: string | null } | null;
  challenges: Challenge[];
  failures: number;
  locked: boolean;
};
/** `admin`: a session of an administrator that has just confirmed (the admin's changes here need it). */
type Real = { db: () => import("@/db").Database; user: TestUser; admin: AdminSession };

const SETTINGS = { trustBrowserEnabled: false, trustBrowserDays: 30, requireTwoFactorFor: "nobody", requireGraceDays: 0 } as const;

function requirement(m: Model): "none" | "code" | "enroll" {
  if (!m.instanceOn) return "none";
  if (m.enrolled) return "code";
  return m.required ? "enroll" : "none";
}

/** Every pending sign-in ends when the account changes (password, role, email, factors, sessions). */
function endChallenges(m: Model): void {
  for (const c of m.challenges) c.alive = false;
}

/** One judged code attempt against the model's lockout; null when the lock refuses it unjudged. */
function reserve(m: Model): { locks: boolean } | null {
  if (m.locked) return null;
  m.failures += 1;
  if (m.failures < MAX_SECOND_FACTOR_FAILURES) return { locks: false };
  m.failures = 0;
  m.locked = true;
  return { locks: true };
}

function succeed(m: Model): void {
  m.failures = 0;
  m.locked = false;
}

function pick<T>(items: T[], index: number): T | undefined {
  return items.length === 0 ? undefined : items[index % items.length];
}

/** One command: `act` against the model and the real system, then the invariants. */
abstract class Step implements fc.AsyncCommand<Model, Real> {
  check(m: Model): boolean {
    return !!m;
  }
  async run(m: Model, r: Real): Promise<void> {
    await this.act(m, r);
    await checkInvariants(m, r);
  }
  abstract act(m: Model, r: Real): Promise<void>;
  abstract toString(): string;
}

class OpenChallenge extends Step {
  async act(m: Model, r: Real) {
    const result = await passwordStep(r.db(), { email: r.user.email, password: m.password }, CONTEXT);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const purpose: Purpose = requirement(m) === "enroll" ? "enroll" : "sign_in";
    m.challenges.push({ token: result.challenge, purpose, alive: true });
  }
  toString() {
    return "OpenChallenge";
  }
}

/** The second step with a TOTP code (right, wrong) on one challenge, or the same code as a parallel burst. */
class CodeStep extends Step {
  constructor(readonly index: number, readonly right: boolean, readonly burst: number) {
    super();
  }
  check(m: Model) {
    return m.challenges.length > 0;
  }
  async act(m: Model, r: Real) {
    const c = pick(m.challenges, this.index)!;
    const step = currentStep();
    const code = m.secret ? (this.right ? codeOf(m.secret, step) : wrongCode(m.secret)) : "000000";
    if (this.burst > 1) return runBurst(m, r, c, this.burst, () => completeSignIn(r.db(), { challenge: c.token, method: "totp", code }, CONTEXT));
    const result = await completeSignIn(r.db(), { challenge: c.token, method: "totp", code }, CONTEXT);
    const accepted = this.right && (m.lastStep === null || m.lastStep < step);
    expect(result).toEqual(expectCodeStep(m, c, accepted, "code_invalid"));
    if (result.ok) m.lastStep = step;
  }
  toString() {
    return `CodeStep(${this.index}, ${this.right ? "right" : "wrong"}${this.burst > 1 ? `, burst ${this.burst}` : ""})`;
  }
}

class RecoveryStep extends Step {
  constructor(readonly index: number, readonly kind: "unused" | "used" | "wrong") {
    super();
  }
  check(m: Model) {
    return m.challenges.length > 0;
  }
  async act(m: Model, r: Real) {
    const c = pick(m.challenges, this.index)!;
    const code = (this.kind === "unused" ? m.recovery[0] : this.kind === "used" ? m.usedRecovery[0] : undefined) ?? "zzzz-zzzz-zzzz-zzzz";
    const result = await completeSignIn(r.db(), { challenge: c.token, method: "recovery", code }, CONTEXT);
    const accepted = m.recovery.includes(code);
    expect(result).toEqual(expectCodeStep(m, c, accepted, "recovery_invalid"));
    if (result.ok) {
      m.recovery = m.recovery.filter((x) => x !== code);
      m.usedRecovery.push(code);
    }
  }
  toString() {
    return `RecoveryStep(${this.index}, ${this.kind})`;
  }
}

/** What completeSignIn must answer for a code on challenge `c`, updating the model as the server must. */
function expectCodeStep(m: Model, c: Challenge, accepted: boolean, wrong: "code_invalid" | "recovery_invalid"): SecondStepResult | object {
  if (!c.alive) return { ok: false, error: "challenge_expired" };
  if (c.purpose === "enroll" || requirement(m) !== "code") {
    c.alive = false; // a refused finish spends the challenge
    return { ok: false, error: "challenge_expired" };
  }
  const attempt = reserve(m);
  if (!attempt) return { ok: false, error: "locked_out" };
  if (!accepted) return { ok: false, error: attempt.locks ? "locked_out" : wrong };
  succeed(m);
  c.alive = false;
  return { ok: true, user: expect.objectContaining({ email: expect.any(String) }), trustToken: undefined };
}

/** Parallel copies of one sign-in attempt: at most one session, at most the lock's allowance judged. */
async function runBurst(m: Model, r: Real, c: Challenge, size: number, attempt: () => Promise<SecondStepResult>): Promise<void> {
  const allowance = m.locked ? 0 : MAX_SECOND_FACTOR_FAILURES - m.failures;
  const results = await Promise.all(Array.from({ length: size }, attempt));
  const sessions = results.filter((x) => x.ok).length;
  expect(sessions).toBeLessThanOrEqual(1);
  if (sessions === 1) expect(c.alive && c.purpose !== "enroll" && requirement(m) === "code").toBe(true);
  const judged = results.filter((x) => x.ok || (x.error !== "locked_out" && x.error !== "challenge_expired")).length;
  expect(judged).toBeLessThanOrEqual(sessions === 1 ? allowance + MAX_SECOND_FACTOR_FAILURES : allowance);
  // Take the database's word for what the model cannot order: the counters, the step, the challenge.
  const row = await userRow(r.db(), r.user.id);
  m.failures = row.secondFactorFailures;
  m.locked = row.secondFactorLockedUntil !== null && row.secondFactorLockedUntil > new Date();
  if (sessions === 1) m.lastStep = currentStep();
  const [live] = await r.db().select().from(signInChallenges).where(eq(signInChallenges.tokenHash, sha256Hex(c.token)));
  c.alive = !!live;
}

class FinishWithout extends Step {
  constructor(readonly index: number, readonly method: "none" | "enrolled") {
    super();
  }
  check(m: Model) {
    return m.challenges.length > 0;
  }
  async act(m: Model, r: Real) {
    const c = pick(m.challenges, this.index)!;
    const result = await completeSignIn(r.db(), { challenge: c.token, method: this.method, code: "" }, CONTEXT);
    const qualifies = this.method === "enrolled" ? c.purpose === "enrolled" : c.purpose !== "enroll" && requirement(m) === "none";
    expect(result.ok, "a session without a factor").toBe(c.alive && qualifies);
    c.alive = false; // used, or refused and spent
  }
  toString() {
    return `Finish(${this.index}, ${this.method})`;
  }
}

class StartEnrollment extends Step {
  constructor(readonly atSignIn: number | null) {
    super();
  }
  async act(m: Model, r: Real) {
    const c = this.atSignIn === null ? null : pick(m.challenges, this.atSignIn);
    if (this.atSignIn !== null && !c) return;
    const result = c ? await startSignInEnrollment(r.db(), c.token) : await startEnrollment(r.db(), r.user);
    if (c && !(c.alive && c.purpose === "enroll")) return void expect(result).toEqual({ ok: false, error: "challenge_expired" });
    if (!m.instanceOn) return void expect(result).toEqual({ ok: false, error: "two_factor_off" });
    if (m.enrolled) return void expect(result).toEqual({ ok: false, error: "already_enabled" });
    expect(result.ok).toBe(true);
    if (result.ok) m.pending = { secret: result.secret, token: c?.token ?? null };
  }
  toString() {
    return `StartEnrollment(${this.atSignIn ?? "My Settings"})`;
  }
}

class ConfirmEnrollment extends Step {
  constructor(readonly atSignIn: number | null, readonly right: boolean) {
    super();
  }
  async act(m: Model, r: Real) {
    const c = this.atSignIn === null ? null : pick(m.challenges, this.atSignIn);
    if (this.atSignIn !== null && !c) return;
    const secret = m.pending?.secret ?? m.secret ?? "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    const step = currentStep();
    const code = this.right ? codeOf(secret, step) : wrongCode(secret);
    const result = c
      ? await confirmSignInEnrollment(r.db(), c.token, code, CONTEXT)
      : await confirmEnrollment(r.db(), r.user.id, code, CONTEXT);
    if (c && !(c.alive && c.purpose === "enroll")) return void expect(result).toEqual({ ok: false, error: "challenge_expired" });
    if (!m.instanceOn) return void expect(result).toEqual({ ok: false, error: "two_factor_off" });
    const here = m.pending && m.pending.token === (c?.token ?? null) && !m.enrolled;
    if (!here) return void expect(result).toMatchObject({ ok: false, error: m.enrolled ? "already_enabled" : "expired" });
    const attempt = reserve(m);
    if (!attempt) return void expect(result).toEqual({ ok: false, error: "locked_out" });
    if (!this.right) return void expect(result).toEqual({ ok: false, error: attempt.locks ? "locked_out" : "code_invalid" });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    succeed(m);
    Object.assign(m, { enrolled: true, secret: m.pending!.secret, lastStep: step, required: false, pending: null });
    m.recovery = [...result.recoveryCodes];
    m.usedRecovery = [];
    endChallenges(m);
    if (c) m.challenges.push({ token: (result as { challenge: string }).challenge, purpose: "enrolled", alive: true });
  }
  toString() {
    return `ConfirmEnrollment(${this.atSignIn ?? "My Settings"}, ${this.right ? "right" : "wrong"})`;
  }
}

/** Disable or Generate new codes: a current code first (the step-up), on the same lockout. */
class StepUp extends Step {
  constructor(readonly action: "disable" | "regenerate", readonly right: boolean) {
    super();
  }
  async act(m: Model, r: Real) {
    const step = currentStep();
    const code = m.secret ? (this.right ? codeOf(m.secret, step) : wrongCode(m.secret)) : "000000";
    const result =
      this.action === "disable"
        ? await disableTwoFactor(r.db(), r.user.id, code, CONTEXT)
        : await regenerateRecoveryCodes(r.db(), r.user.id, code, CONTEXT);
    const verdict = typeof result === "string" ? result : result.ok ? "ok" : result.error;
    if (!m.enrolled) return void expect(verdict).toBe("not_enabled");
    const attempt = reserve(m);
    if (!attempt) return void expect(verdict).toBe("locked_out");
    const accepted = this.right && (m.lastStep === null || m.lastStep < step);
    if (!accepted) return void expect(verdict).toBe(attempt.locks ? "locked_out" : "invalid");
    expect(verdict).toBe("ok");
    succeed(m);
    m.lastStep = step;
    endChallenges(m);
    if (this.action === "disable") Object.assign(m, { enrolled: false, secret: null, lastStep: null, recovery: [], usedRecovery: [] });
    else {
      m.recovery = [...(result as { recoveryCodes: string[] }).recoveryCodes];
      m.usedRecovery = [];
    }
  }
  toString() {
    return `StepUp(${this.action}, ${this.right ? "right" : "wrong"})`;
  }
}

class AdminOverride extends Step {
  constructor(readonly twoFactorEnabled: boolean) {
    super();
  }
  async act(m: Model, r: Real) {
    const input = { name: r.user.name, email: r.user.email, admin: false, twoFactorEnabled: this.twoFactorEnabled };
    expect(await updateUserProperties(r.db(), r.admin, r.user.id, input, CONTEXT)).toEqual({ ok: true });
    if (this.twoFactorEnabled && !m.enrolled && !m.required) {
      m.required = true;
      endChallenges(m);
    }
    if (!this.twoFactorEnabled && (m.enrolled || m.required)) {
      Object.assign(m, { enrolled: false, required: false, secret: null, lastStep: null, recovery: [], usedRecovery: [], pending: null });
      endChallenges(m);
    }
  }
  toString() {
    return `AdminOverride(${this.twoFactorEnabled ? "require" : "remove"})`;
  }
}

class InstanceSwitch extends Step {
  async act(m: Model, r: Real) {
    m.instanceOn = !m.instanceOn;
    expect(await saveSecuritySettings(r.db(), r.admin, { ...SETTINGS, twoFactorEnabled: m.instanceOn }, CONTEXT)).toEqual({ ok: true });
  }
  toString() {
    return "InstanceSwitch";
  }
}

class AccountChange extends Step {
  constructor(readonly kind: "password" | "sign_out_everywhere") {
    super();
  }
  async act(m: Model, r: Real) {
    if (this.kind === "password") {
      const next = `a new passphrase ${Math.random().toString(36).slice(2)} long`;
      expect(await changePassword(r.db(), r.user.id, m.password, next, CONTEXT)).toMatchObject({ ok: true });
      m.password = next;
    } else {
      await signOutEverywhere(r.db(), r.user.id, CONTEXT);
    }
    endChallenges(m);
  }
  toString() {
    return `AccountChange(${this.kind})`;
  }
}

/** A minute passes: the last code's step is old enough to use the current one; a lock runs out. */
class TimePasses extends Step {
  async act(m: Model, r: Real) {
    const lastUsedStep = m.lastStep === null ? null : currentStep() - 2;
    await r.db().update(totpCredentials).set({ lastUsedStep }).where(eq(totpCredentials.userId, r.user.id));
    if (m.locked) await r.db().update(users).set({ secondFactorLockedUntil: new Date(Date.now() - 1000) }).where(eq(users.id, r.user.id));
    m.lastStep = lastUsedStep;
    m.locked = false;
  }
  toString() {
    return "TimePasses";
  }
}

async function checkInvariants(m: Model, r: Real): Promise<void> {
  const dead = m.challenges.filter((c) => !c.alive).map((c) => sha256Hex(c.token));
  if (dead.length > 0) {
    const revived = await r.db().select().from(signInChallenges).where(inArray(signInChallenges.tokenHash, dead));
    expect(revived, "a dead challenge stays dead").toEqual([]);
  }
  const row = await userRow(r.db(), r.user.id);
  expect({ failures: row.secondFactorFailures, locked: row.secondFactorLockedUntil !== null && row.secondFactorLockedUntil > new Date() }).toEqual({
    failures: m.failures,
    locked: m.locked,
  });
  const [credential] = await r.db().select().from(totpCredentials).where(eq(totpCredentials.userId, r.user.id));
  expect(!!credential?.enabledAt, "2FA on").toBe(m.enrolled);
}

const index = fc.nat({ max: 7 });
const commands = [
  fc.constant(new OpenChallenge()),
  fc.constant(new OpenChallenge()),
  fc.tuple(index, fc.boolean(), fc.constantFrom(1, 1, 1, 8)).map(([i, right, burst]) => new CodeStep(i, right, burst)),
  fc.tuple(index, fc.constantFrom("unused", "used", "wrong" as const)).map(([i, kind]) => new RecoveryStep(i, kind)),
  fc.tuple(index, fc.constantFrom("none", "enrolled" as const)).map(([i, method]) => new FinishWithout(i, method)),
  fc.option(index, { nil: null }).map((i) => new StartEnrollment(i)),
  fc.tuple(fc.option(index, { nil: null }), fc.boolean()).map(([i, right]) => new ConfirmEnrollment(i, right)),
  fc.tuple(fc.constantFrom("disable", "regenerate" as const), fc.boolean()).map(([action, right]) => new StepUp(action, right)),
  fc.boolean().map((on) => new AdminOverride(on)),
  fc.constant(new InstanceSwitch()),
  fc.constantFrom("password", "sign_out_everywhere" as const).map((kind) => new AccountChange(kind)),
  fc.constant(new TimePasses()),
];

describe.each(testDrivers())("an account's security state, model-based, on %s", (driver) => {
  const t = useTestDatabase(driver);

  it("random sequences of sign-in, enrollment, step-up, admin and account commands keep every invariant", async () => {
    const administrator = await newUser(t.db, { admin: true });
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 30 }), async (sequence) => {
        const admin = await confirmedSession(t.db, administrator);
        await saveSecuritySettings(t.db, admin, { ...SETTINGS, twoFactorEnabled: true }, CONTEXT);
        const user = await newUser(t.db);
        const model: Model = {
          password: user.password, instanceOn: true, required: false, enrolled: false, secret: null, lastStep: null,
          recovery: [], usedRecovery: [], pending: null, challenges: [], failures: 0, locked: false,
        };
        const real: Real = { db: () => t.db, user, admin };
        await fc.asyncModelRun(() => ({ model, real }), sequence);
      }),
      { numRuns: driver === "pglite" ? 25 : 15, endOnFailure: true },
    );
  }, 300_000);
});
