import { randomBytes, randomUUID } from "node:crypto";
import { and, eq, gt, isNotNull, sql } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Database } from "@/db";
import { auditEvents, instanceSettings, recoveryCodes, sessions, signInChallenges, totpCredentials, trustedBrowsers, users } from "@/db/schema";
import type { RequestContext } from "@/lib/audit";
import { signOutEverywhere } from "@/lib/account/sessions";
import { consumeChallenge, createChallenge, findChallenge } from "@/lib/auth/challenge";
import { completeSignIn, type SecondStepInput, type SecondStepMethod, type SecondStepResult } from "@/lib/auth/second-step";
import { refreshSession } from "@/lib/auth/session-records";
import { sha256Hex } from "@/lib/crypto";
import { getSettings } from "@/lib/settings";
import { startKeySignIn } from "@/lib/security-keys/sign-in";
import { confirmSignInEnrollment, startSignInEnrollment } from "@/lib/two-factor/sign-in-enrollment";
import { MAX_SECOND_FACTOR_FAILURES } from "@/lib/two-factor/lockout";
import type { Seams } from "./support/seams";
import { requestScopes, type RequestScope } from "./support/next-request-shim";
import { testDrivers, useTestDatabase, type TestDatabase } from "./support/databases";
import {
  codeAt,
  CONTEXT,
  enrolledUser,
  eventsAbout,
  newUser,
  nowSeconds,
  openChallenge,
  rawRows,
  rewindLastUsedStep,
  totpRow,
  userRow,
  wrongCode,
  type EnrolledUser,
  type TestUser,
} from "./support/fixtures";
import { addKey } from "./support/security-keys";
import { runAsTestRelyingParty, type SoftwareKey } from "./support/software-key";

/**
 * Red team (helper "session row"): the second step now writes the session's
 * row itself — in the one-statement TOTP finish (a data-modifying CTE) or in
 * the finishing transaction of every other factor — and returns its `sid`.
 * Attacks: a session row without a finished second step, more than one row per
 * challenge or code, a row bound to the wrong user / version / IP / browser, a
 * session surviving a concurrent sign-out-everywhere or 2FA removal, the
 * failure accounting around it, and deadlocks / 500s under parallel bursts.
 * A test that FAILS is a finding; one that passes pins the defence.
 */

// ---------------------------------------------------------------- seams: hooks at exact moments inside lib/ code

type SeamKey = "afterReserve" | "afterRecordSession";
const seams = vi.hoisted(() => ({ afterReserve: null, afterRecordSession: null }) as Record<"afterReserve" | "afterRecordSession", (() => Promise<unknown>) | null>);
vi.mock("@/lib/two-factor/lockout", async (importOriginal) => {
  const original = await importOriginal<typeof import("@/lib/two-factor/lockout")>();
  const { withSeamAfter } = await import("./support/seams");
  return { ...original, reserveSecondFactorAttempt: withSeamAfter(original.reserveSecondFactorAttempt, seams as Seams<SeamKey>, "afterReserve") };
});
vi.mock("@/lib/auth/session-records", async (importOriginal) => {
  const original = await importOriginal<typeof import("@/lib/auth/session-records")>();
  const { withSeamAfter } = await import("./support/seams");
  return { ...original, recordSession: withSeamAfter(original.recordSession, seams as Seams<SeamKey>, "afterRecordSession") };
});

// next/headers and Auth.js, in process: tests/integration/support/next-request-shim.ts.
vi.mock("next/headers", async () => (await import("./support/next-request-shim")).nextHeadersShim());
vi.mock("next-auth", async () => (await import("./support/next-request-shim")).nextAuthShim());
vi.mock("next-auth/providers/credentials", async () => (await import("./support/next-request-shim")).credentialsShim());

// ---------------------------------------------------------------- helpers

const ATTACKER: RequestContext = { ip: "198.51.100.66", userAgent: "attacker" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const answerOf = (r: SecondStepResult) => (r.ok ? "ok" : r.error);
const oks = (results: SecondStepResult[]) => results.filter((r): r is Extract<SecondStepResult, { ok: true }> => r.ok);
const describeInput = (input: Partial<SecondStepInput> & { method: SecondStepMethod }) => `completeSignIn(${input.method}${input.trust ? "+trust" : ""})`;
const ctx = (i: number): RequestContext => ({ ip: `192.0.2.${(i % 250) + 1}`, userAgent: `browser-${i}-${randomBytes(3).toString("hex")}` });

function helpers(t: TestDatabase) {
  const signIn = (input: Partial<SecondStepInput> & { challenge: string; method: SecondStepMethod }, context = ATTACKER) =>
    completeSignIn(t.db, { code: "", ...input }, context);
  const challengeOf = async (user: { id: string }, purpose: "sign_in" | "enroll" = "sign_in") => (await createChallenge(t.db, user.id, purpose))!;
  const challengesOf = (user: { id: string }, n: number) => Promise.all(Array.from({ length: n }, () => challengeOf(user)));
  const expire = (token: string) =>
    t.db.update(signInChallenges).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(signInChallenges.tokenHash, sha256Hex(token)));
  const alive = async (token: string) => (await findChallenge(t.db, token)) !== null;
  const rowsOf = (userId: string) => t.db.select().from(sessions).where(eq(sessions.userId, userId));
  const allRows = () => t.db.select().from(sessions);
  const count = async (userId: string, event: string) => (await eventsAbout(t.db, userId)).filter((e) => e.event === event).length;
  const lockState = async (userId: string) => {
    const row = await userRow(t.db, userId);
    return { failures: row.secondFactorFailures, lockouts: row.secondFactorLockouts, lockedUntil: row.secondFactorLockedUntil?.getTime() ?? null };
  };
  const setFailures = (userId: string, failures: number) => t.db.update(users).set({ secondFactorFailures: failures }).where(eq(users.id, userId));
  const settle = async <T>(work: Promise<T>[], labels?: string[]) => {
    const settled = await Promise.allSettled(work);
    if (process.env.RT_DETAIL)
      for (const x of settled) if (x.status === "rejected") console.log(`[error detail] ${(x.reason as { cause?: { detail?: string; where?: string } })?.cause?.detail}\nwhere: ${(x.reason as { cause?: { where?: string } })?.cause?.where}`);
    if (labels)
      return {
        values: settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : [])),
        errors: settled.flatMap((s, i) => (s.status === "rejected" ? [`${labels[i]}: ${String((s.reason as { cause?: unknown })?.cause ?? s.reason)}`] : [])),
      };
    return {
      values: settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : [])),
      errors: settled.flatMap((s) => (s.status === "rejected" ? [String((s.reason as { cause?: unknown })?.cause ?? s.reason)] : [])),
    };
  };
  /** The JWT authorize() + the jwt callback would issue for an ok result. */
  const tokenOf = (r: Extract<SecondStepResult, { ok: true }>) => ({ sub: r.user.id, sid: r.sid, sv: r.user.sessionVersion, authTime: nowSeconds() });
  const usable = async (r: Extract<SecondStepResult, { ok: true }>) => (await refreshSession(t.db, tokenOf(r))) !== null;
  const usedRecoveryCodes = async (userId: string) =>
    (await t.db.select().from(recoveryCodes).where(and(eq(recoveryCodes.userId, userId), isNotNull(recoveryCodes.usedAt)))).length;
  /** A trusted-browser token of the user, from a sign-in with "Trust this browser" (then the time step is rewound). */
  const trustTokenOf = async (user: EnrolledUser) => {
    const r = await completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "totp", code: codeAt(user.secret), trust: true }, CONTEXT);
    if (!r.ok || !r.trustToken) throw new Error("no trust token");
    await rewindLastUsedStep(t.db, user.id);
    await t.db.delete(sessions).where(eq(sessions.userId, user.id));
    return r.trustToken;
  };
  /** What exists before an attack: the rows and audit entries made by the fixtures are not the attack's. */
  type Mark = { sids: Set<string>; auditId: number };
  const mark = async (): Promise<Mark> => {
    const [row] = await t.db.select({ max: sql<number>`coalesce(max(${auditEvents.id}), 0)::int` }).from(auditEvents);
    return { sids: new Set((await allRows()).map((r) => r.sid)), auditId: Number(row.max) };
  };
  const newRowsOf = async (m: Mark, userId: string) => (await rowsOf(userId)).filter((r) => !m.sids.has(r.sid));
  const eventsSince = async (m: Mark, userId: string, event: string) =>
    (await t.db.select().from(auditEvents).where(and(eq(auditEvents.targetUserId, userId), eq(auditEvents.event, event), gt(auditEvents.id, m.auditId)))).length;
  /**
   * The invariant after any burst: every ok answer names exactly one row, of its own user, at the version its JWT
   * carries, with its own request's IP and browser; no row without an ok answer; one sign_in.succeeded per row.
   */
  const expectRowsMatch = async (m: Mark, userIds: string[], ok: { result: Extract<SecondStepResult, { ok: true }>; context: RequestContext }[]) => {
    const rows = (await allRows()).filter((row) => userIds.includes(row.userId) && !m.sids.has(row.sid));
    expect(rows.map((row) => row.sid).sort(), "session rows = ok answers").toEqual(ok.map((o) => o.result.sid).sort());
    for (const { result, context } of ok) {
      const row = rows.find((r) => r.sid === result.sid)!;
      expect({ userId: row.userId, sessionVersion: row.sessionVersion, ip: row.ip, userAgent: row.userAgent }).toEqual({
        userId: result.user.id,
        sessionVersion: result.user.sessionVersion,
        ip: context.ip,
        userAgent: context.userAgent,
      });
    }
    let succeeded = 0;
    for (const id of userIds) succeeded += await eventsSince(m, id, "sign_in.succeeded");
    expect(succeeded, "one sign_in.succeeded per session row").toBe(rows.length);
  };
  return { mark, newRowsOf, eventsSince, signIn, challengeOf, challengesOf, expire, alive, rowsOf, allRows, count, lockState, setFailures, settle, tokenOf, usable, usedRecoveryCodes, trustTokenOf, expectRowsMatch };
}

async function resetSettings(db: Database) {
  await getSettings(db);
  await db
    .update(instanceSettings)
    .set({ twoFactorEnabled: true, trustBrowserEnabled: true, trustBrowserDays: 30, requireTwoFactorFor: "nobody", passkeySignInEnabled: false })
    .where(eq(instanceSettings.id, 1));
}

/** A user forced to enrol, whose forced enrollment has been confirmed on this challenge: the "enrolled" challenge. */
async function enrolledChallenge(db: Database): Promise<{ user: TestUser; enroll: string; enrolled: string; secret: string }> {
  const user = await newUser(db);
  await db.update(users).set({ twoFactorRequired: true }).where(eq(users.id, user.id));
  const enroll = await openChallenge(db, user);
  const started = await startSignInEnrollment(db, enroll);
  if (!started.ok) throw new Error(started.error);
  const confirmed = await confirmSignInEnrollment(db, enroll, codeAt(started.secret), CONTEXT);
  if (!confirmed.ok) throw new Error(confirmed.error);
  return { user, enroll, enrolled: confirmed.challenge, secret: started.secret };
}

/** An "enroll" challenge with a pending secret started on it (the password holder's forced-enrollment challenge). */
async function enrollChallenge(db: Database): Promise<{ user: TestUser; challenge: string; secret: string }> {
  const user = await newUser(db);
  await db.update(users).set({ twoFactorRequired: true }).where(eq(users.id, user.id));
  const challenge = await openChallenge(db, user);
  const started = await startSignInEnrollment(db, challenge);
  if (!started.ok) throw new Error(started.error);
  return { user, challenge, secret: started.secret };
}

// ================================================================ 1. no session row without a finished second step

describe.each(testDrivers())("red team (session row) — no row without a finished second step, on %s", (driver) => {
  runAsTestRelyingParty();
  const t = useTestDatabase(driver);
  const h = helpers(t);
  beforeEach(() => resetSettings(t.db));

  it("wrong, replayed and too-old codes, an expired, unknown or foreign challenge: refused, and no session row for anyone", async () => {
    const owner = await enrolledUser(t.db);
    const attacker = await enrolledUser(t.db);
    const ok = await h.signIn({ challenge: await openChallenge(t.db, owner), method: "totp", code: codeAt(owner.secret) }, CONTEXT);
    expect(ok.ok).toBe(true);
    await t.db.delete(sessions);
    const expired = await h.challengeOf(owner);
    await h.expire(expired);
    const attempts: [string, Promise<SecondStepResult>][] = [
      ["wrong code", h.signIn({ challenge: await h.challengeOf(owner), method: "totp", code: wrongCode(owner.secret) })],
      ["replayed code", h.signIn({ challenge: await h.challengeOf(owner), method: "totp", code: codeAt(owner.secret) })],
      ["replayed code, trust", h.signIn({ challenge: await h.challengeOf(owner), method: "totp", code: codeAt(owner.secret), trust: true })],
      ["code two steps old", h.signIn({ challenge: await h.challengeOf(owner), method: "totp", code: codeAt(owner.secret, -2) })],
      ["expired challenge", h.signIn({ challenge: expired, method: "totp", code: codeAt(owner.secret, -1) })],
      ["unknown challenge", h.signIn({ challenge: randomBytes(32).toString("base64url"), method: "recovery", code: owner.recoveryCodes[0] })],
      ["attacker's challenge, owner's code", h.signIn({ challenge: await h.challengeOf(attacker), method: "totp", code: codeAt(owner.secret, -1) })],
      ["attacker's challenge, owner's recovery code", h.signIn({ challenge: await h.challengeOf(attacker), method: "recovery", code: owner.recoveryCodes[1] })],
      ["owner's challenge, attacker's code", h.signIn({ challenge: await h.challengeOf(owner), method: "totp", code: codeAt(attacker.secret) })],
      ["owner's challenge, attacker's recovery code", h.signIn({ challenge: await h.challengeOf(owner), method: "recovery", code: attacker.recoveryCodes[0] })],
    ];
    for (const [name, attempt] of attempts) expect(answerOf(await attempt), name).not.toBe("ok");
    expect(await h.rowsOf(owner.id)).toHaveLength(0);
    expect(await h.rowsOf(attacker.id)).toHaveLength(0);
    expect(await h.usedRecoveryCodes(owner.id)).toBe(0);
    expect(await h.usedRecoveryCodes(attacker.id)).toBe(0);
    expect(await h.count(owner.id, "sign_in.succeeded")).toBe(1);
  });

  it("a locked second step: the right TOTP code (with and without trust), the right recovery code and a valid trusted-browser-less 'none' give no row; each locked attempt audited", async () => {
    const owner = await enrolledUser(t.db);
    await t.db.update(users).set({ secondFactorLockedUntil: sql`now() + interval '15 minutes'` as unknown as Date, secondFactorLockouts: 1 }).where(eq(users.id, owner.id));
    const results = await Promise.all([
      h.signIn({ challenge: await h.challengeOf(owner), method: "totp", code: codeAt(owner.secret) }),
      h.signIn({ challenge: await h.challengeOf(owner), method: "totp", code: codeAt(owner.secret, -1), trust: true }),
      h.signIn({ challenge: await h.challengeOf(owner), method: "recovery", code: owner.recoveryCodes[0] }),
    ]);
    expect(results.map(answerOf)).toEqual(["locked_out", "locked_out", "locked_out"]);
    expect(await h.signIn({ challenge: await h.challengeOf(owner), method: "none" })).toEqual({ ok: false, error: "challenge_expired" });
    expect(await h.rowsOf(owner.id)).toHaveLength(0);
    expect(await h.count(owner.id, "sign_in.locked_attempt")).toBe(3);
    expect(await h.count(owner.id, "sign_in.finish_refused")).toBe(1);
    expect(await h.usedRecoveryCodes(owner.id)).toBe(0);
  });

  it("non-qualifying finishes (an 'enroll' challenge as totp/recovery/security_key/none/enrolled/trusted; 'none' and 'enrolled' where a code is owed; 'totp' for a key-only user): spent, audited once each, counted nothing, no row", async () => {
    const cases: { userId: string; input: Partial<SecondStepInput> & { challenge: string; method: SecondStepMethod } }[] = [];
    for (const method of ["totp", "recovery", "security_key", "none", "enrolled", "trusted"] as SecondStepMethod[]) {
      const { user, challenge, secret } = await enrollChallenge(t.db);
      cases.push({ userId: user.id, input: { challenge, method, code: codeAt(secret), assertion: "junk", trustToken: "x".repeat(43) } });
    }
    const owner = await enrolledUser(t.db);
    cases.push({ userId: owner.id, input: { challenge: await h.challengeOf(owner), method: "none" } });
    cases.push({ userId: owner.id, input: { challenge: await h.challengeOf(owner), method: "enrolled" } });
    const keyOnly = await newUser(t.db);
    await addKey(t.db, keyOnly);
    cases.push({ userId: keyOnly.id, input: { challenge: await h.challengeOf(keyOnly), method: "totp", code: "123456" } });
    const mark = await h.mark();
    const results = await Promise.all(cases.map((c) => h.signIn(c.input)));
    expect(results.map(answerOf)).toEqual(Array(cases.length).fill("challenge_expired"));
    for (const c of cases) {
      expect(await h.alive(c.input.challenge), c.input.method).toBe(false);
      expect(await h.newRowsOf(mark, c.userId), c.input.method).toHaveLength(0);
      expect((await h.lockState(c.userId)).failures, c.input.method).toBe(0);
    }
    const refused = (await Promise.all([...new Set(cases.map((c) => c.userId))].map((id) => h.count(id, "sign_in.finish_refused")))).reduce((a, b) => a + b, 0);
    expect(refused).toBe(cases.length);
  });

  it("partial one-statement finish, factor lost (the code's step used by a finish on another challenge first): REPLAYED, audited and counted, challenge alive, no row", async () => {
    const owner = await enrolledUser(t.db);
    const [first, second] = await h.challengesOf(owner, 2);
    const code = codeAt(owner.secret);
    expect((await h.signIn({ challenge: first, method: "totp", code }, CONTEXT)).ok).toBe(true);
    expect(answerOf(await h.signIn({ challenge: second, method: "totp", code }))).toBe("code_invalid");
    expect(await h.alive(second)).toBe(true);
    expect(await h.rowsOf(owner.id)).toHaveLength(1);
    expect(await h.count(owner.id, "sign_in.code_replayed")).toBe(1);
    expect((await h.lockState(owner.id)).failures).toBe(1);
  });

  it("partial one-statement finish, challenge lost mid-statement (a concurrent transaction deletes it while the finish runs): no row, 'challenge_expired', no sign_in.succeeded", async () => {
    const owner = await enrolledUser(t.db);
    const challenge = await h.challengeOf(owner);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let deleted!: () => void;
    const didDelete = new Promise<void>((resolve) => (deleted = resolve));
    const thief = t.db.transaction(async (tx) => {
      await consumeChallenge(tx, challenge);
      deleted();
      await held;
    });
    await didDelete;
    const finish = h.signIn({ challenge, method: "totp", code: codeAt(owner.secret) }, CONTEXT);
    await sleep(300);
    release();
    await thief;
    expect(answerOf(await finish)).toBe("challenge_expired");
    expect(await h.rowsOf(owner.id)).toHaveLength(0);
    expect(await h.count(owner.id, "sign_in.succeeded")).toBe(0);
  });

  it("fault injected into the session row's INSERT (a trigger raises): every finish is all or nothing — no time step, recovery code, trusted browser, challenge or audit entry is used up without the row", async () => {
    const owner = await enrolledUser(t.db);
    const token = await h.trustTokenOf(owner);
    const { user: forced, enrolled } = await enrolledChallenge(t.db);
    const plain = await newUser(t.db);
    const FAIL: RequestContext = { ip: "192.0.2.99", userAgent: "fail-me" };
    await t.db.execute(sql.raw(`create or replace function rt_fail_session() returns trigger language plpgsql as $$ begin raise exception 'injected session fault'; end $$`));
    await t.db.execute(sql.raw(`create trigger rt_fail_session before insert on sessions for each row when (new.user_agent = 'fail-me') execute function rt_fail_session()`));
    try {
      const stepBefore = (await totpRow(t.db, owner.id))!.lastUsedStep;
      const browsersBefore = (await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, owner.id))).length;
      const challenges = await h.challengesOf(owner, 4);
      const plainChallenge = await h.challengeOf(plain);
      const attempts = [
        h.signIn({ challenge: challenges[0], method: "totp", code: codeAt(owner.secret) }, FAIL),
        h.signIn({ challenge: challenges[1], method: "totp", code: codeAt(owner.secret), trust: true }, FAIL),
        h.signIn({ challenge: challenges[2], method: "recovery", code: owner.recoveryCodes[0] }, FAIL),
        h.signIn({ challenge: challenges[3], method: "trusted", trustToken: token }, FAIL),
        h.signIn({ challenge: enrolled, method: "enrolled" }, FAIL),
        h.signIn({ challenge: plainChallenge, method: "none" }, FAIL),
      ];
      const { values, errors } = await h.settle(attempts);
      expect(oks(values)).toHaveLength(0);
      expect(errors.length).toBe(6);
      expect((await totpRow(t.db, owner.id))!.lastUsedStep, "time step").toBe(stepBefore);
      expect(await h.usedRecoveryCodes(owner.id), "recovery code").toBe(0);
      expect((await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, owner.id))).length, "trusted browsers").toBe(browsersBefore);
      for (const c of [...challenges, enrolled, plainChallenge]) expect(await h.alive(c), "challenge").toBe(true);
      for (const id of [owner.id, forced.id, plain.id]) {
        expect(await h.rowsOf(id)).toHaveLength(0);
        expect(await h.count(id, "sign_in.succeeded")).toBe(id === owner.id ? 1 : 0); // the one that issued the trust token
      }
    } finally {
      await t.db.execute(sql.raw(`drop trigger if exists rt_fail_session on sessions`));
    }
    // And once the fault is gone, the same challenges finish normally.
    const m = await h.mark();
    const r = await h.signIn({ challenge: enrolled, method: "enrolled" }, CONTEXT);
    expect(r.ok).toBe(true);
    await h.expectRowsMatch(m, [forced.id], [{ result: r as Extract<SecondStepResult, { ok: true }>, context: CONTEXT }]);
  });
});

// ================================================================ 2. one challenge, one code → one row

describe.each(testDrivers())("red team (session row) — parallel bursts, on %s", (driver) => {
  runAsTestRelyingParty();
  const t = useTestDatabase(driver);
  const h = helpers(t);
  beforeEach(() => resetSettings(t.db));

  /**
   * PostgreSQL, flaky (not new: also at dbc83e2): the one-statement finish takes totp_credentials then the
   * challenge; the "Trust this browser" transaction takes the challenge then totp_credentials: deadlock detected.
   * Failed at 0206e4b (1 of 50 in some rounds); main's 5a59f39 takes the challenge first in the statement too.
   */
  it("50 finishes of ONE challenge with the right code, 'Trust this browser' on for every other one (the one-statement and the transaction finish racing): one row, one audit, no error", async () => {
    for (let round = 0; round < 3; round++) {
      const owner = await enrolledUser(t.db);
      const challenge = await openChallenge(t.db, owner);
      const code = codeAt(owner.secret);
      const contexts = Array.from({ length: 50 }, (_, i) => ctx(i));
      const m = await h.mark();
      const { values, errors } = await h.settle(contexts.map((c, i) => h.signIn({ challenge, method: "totp", code, trust: i % 2 === 0 }, c)));
      expect(errors, `round ${round}`).toEqual([]);
      const won = values.map((r, i) => ({ result: r, context: contexts[i] })).filter((o): o is { result: Extract<SecondStepResult, { ok: true }>; context: RequestContext } => o.result.ok);
      expect(won, `round ${round}`).toHaveLength(1);
      await h.expectRowsMatch(m, [owner.id], won);
      expect(await h.usable(won[0].result)).toBe(true);
    }
  });

  it("40 finishes of ONE challenge mixing every method (codes T and T−1 with and without trust, three recovery codes, a trust token, 'none', 'enrolled', junk keys): exactly one row; what the losers would use up is untouched", async () => {
    for (let round = 0; round < 3; round++) {
      const owner = await enrolledUser(t.db);
      const token = await h.trustTokenOf(owner);
      const challenge = await openChallenge(t.db, owner);
      const inputs: (Partial<SecondStepInput> & { challenge: string; method: SecondStepMethod })[] = [];
      for (let i = 0; i < 40; i++) {
        const kind = i % 8;
        inputs.push(
          kind === 0
            ? { challenge, method: "totp", code: codeAt(owner.secret) }
            : kind === 1
              ? { challenge, method: "totp", code: codeAt(owner.secret, -1), trust: true }
              : kind === 2
                ? { challenge, method: "recovery", code: owner.recoveryCodes[i % 3] }
                : kind === 3
                  ? { challenge, method: "trusted", trustToken: token }
                  : kind === 4
                    ? { challenge, method: "totp", code: codeAt(owner.secret), trust: true }
                    : kind === 5
                      ? { challenge, method: "totp", code: codeAt(owner.secret, -1) }
                      : kind === 6
                        ? { challenge, method: "security_key", assertion: { id: "AAAA", response: {} } }
                        : { challenge, method: i % 2 ? "none" : "enrolled" },
        );
      }
      const contexts = inputs.map((_, i) => ctx(i));
      const m = await h.mark();
      const { values, errors } = await h.settle(inputs.map((input, i) => h.signIn(input, contexts[i])));
      expect(errors, `round ${round}`).toEqual([]);
      const won = values.map((r, i) => ({ result: r, context: contexts[i], input: inputs[i] })).filter((o) => o.result.ok) as {
        result: Extract<SecondStepResult, { ok: true }>;
        context: RequestContext;
        input: (typeof inputs)[number];
      }[];
      expect(won.length, `round ${round}`).toBeLessThanOrEqual(1);
      await h.expectRowsMatch(m, [owner.id], won);
      expect(await h.usedRecoveryCodes(owner.id)).toBe(won[0]?.input.method === "recovery" ? 1 : 0);
    }
  });

  it("one code over 20 challenges of the owner (trust on and off): one row", async () => {
    const owner = await enrolledUser(t.db);
    const challenges = await h.challengesOf(owner, 20);
    const code = codeAt(owner.secret);
    const contexts = challenges.map((_, i) => ctx(i));
    const m = await h.mark();
    const { values, errors } = await h.settle(challenges.map((challenge, i) => h.signIn({ challenge, method: "totp", code, trust: i % 3 === 0 }, contexts[i])));
    expect(errors).toEqual([]);
    const won = values.map((r, i) => ({ result: r, context: contexts[i] })).filter((o) => o.result.ok) as { result: Extract<SecondStepResult, { ok: true }>; context: RequestContext }[];
    expect(won).toHaveLength(1);
    await h.expectRowsMatch(m, [owner.id], won);
  });

  it("one recovery code over 20 challenges: one row, one code used; then every other recovery code over its own challenge: one row per code", async () => {
    const owner = await enrolledUser(t.db);
    const challenges = await h.challengesOf(owner, 20);
    const contexts = challenges.map((_, i) => ctx(i));
    const m = await h.mark();
    const first = await h.settle(challenges.map((challenge, i) => h.signIn({ challenge, method: "recovery", code: owner.recoveryCodes[0] }, contexts[i])));
    expect(first.errors).toEqual([]);
    const won = first.values.map((r, i) => ({ result: r, context: contexts[i] })).filter((o) => o.result.ok) as { result: Extract<SecondStepResult, { ok: true }>; context: RequestContext }[];
    expect(won).toHaveLength(1);
    // The 19 losers sent a used recovery code: wrong guesses, counted (and possibly locking); the lock is not under test here.
    await t.db.update(users).set({ secondFactorFailures: 0, secondFactorLockouts: 0, secondFactorLockedUntil: null }).where(eq(users.id, owner.id));
    const rest = owner.recoveryCodes.slice(1);
    const more = await h.challengesOf(owner, rest.length);
    const contexts2 = rest.map((_, i) => ctx(100 + i));
    // One after the other: a parallel burst of 9 gets only the lockout's 5 judged (by design, lockout-races).
    const second = { values: [] as SecondStepResult[], errors: [] as string[] };
    for (const [i, code] of rest.entries()) second.values.push(await h.signIn({ challenge: more[i], method: "recovery", code }, contexts2[i]));
    expect(second.errors).toEqual([]);
    const won2 = second.values.map((r, i) => ({ result: r, context: contexts2[i] })).filter((o) => o.result.ok) as typeof won;
    expect(won2).toHaveLength(rest.length);
    await h.expectRowsMatch(m, [owner.id], [...won, ...won2]);
    expect(await h.usedRecoveryCodes(owner.id)).toBe(owner.recoveryCodes.length);
  });

  it("one security-key assertion raced over its challenge 12 times (with and without trust): one row", async () => {
    const owner = await newUser(t.db);
    const { key } = await addKey(t.db, owner);
    const challenge = await openChallenge(t.db, owner);
    const started = await startKeySignIn(t.db, challenge);
    if (!started.ok) throw new Error(started.error);
    const assertion = (key as SoftwareKey).assert(started.options);
    const contexts = Array.from({ length: 12 }, (_, i) => ctx(i));
    const m = await h.mark();
    const { values, errors } = await h.settle(contexts.map((c, i) => h.signIn({ challenge, method: "security_key", assertion, trust: i % 2 === 0 }, c)));
    expect(errors).toEqual([]);
    const won = values.map((r, i) => ({ result: r, context: contexts[i] })).filter((o) => o.result.ok) as { result: Extract<SecondStepResult, { ok: true }>; context: RequestContext }[];
    expect(won).toHaveLength(1);
    await h.expectRowsMatch(m, [owner.id], won);
  });

  it("a trusted-browser token over 15 challenges, raced with a recovery code (which forgets the trusted browsers): rows only for finishes that returned ok, none issued after the forgetting committed", async () => {
    const owner = await enrolledUser(t.db);
    const token = await h.trustTokenOf(owner);
    const challenges = await h.challengesOf(owner, 16);
    const contexts = challenges.map((_, i) => ctx(i));
    const inputs = challenges.map((challenge, i) =>
      i === 8 ? { challenge, method: "recovery" as const, code: owner.recoveryCodes[0] } : { challenge, method: "trusted" as const, trustToken: token },
    );
    const m = await h.mark();
    const { values, errors } = await h.settle(inputs.map((input, i) => h.signIn(input, contexts[i])));
    expect(errors).toEqual([]);
    const won = values.map((r, i) => ({ result: r, context: contexts[i] })).filter((o) => o.result.ok) as { result: Extract<SecondStepResult, { ok: true }>; context: RequestContext }[];
    await h.expectRowsMatch(m, [owner.id], won);
    expect(await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, owner.id))).toHaveLength(0);
    // After the forgetting, the token finishes nothing.
    expect(answerOf(await h.signIn({ challenge: await h.challengeOf(owner), method: "trusted", trustToken: token }))).toBe("not_trusted");
  });
});

// ================================================================ 3. binding of the row: user, version, IP, browser; authorize()

describe.each(testDrivers())("red team (session row) — what the row is bound to, on %s", (driver) => {
  const t = useTestDatabase(driver);
  const h = helpers(t);
  beforeEach(() => resetSettings(t.db));

  it("10 users signing in at once, each from its own IP and browser, every method: each row is its own user's, at its user's version, with its own request's IP and browser; a JWT with another user's sub or another sid is refused", async () => {
    const people = await Promise.all(Array.from({ length: 10 }, () => enrolledUser(t.db)));
    const tokens = await Promise.all(people.slice(0, 3).map((p) => h.trustTokenOf(p)));
    const inputs = await Promise.all(
      people.map(async (p, i) => {
        const challenge = await openChallenge(t.db, p);
        if (i < 3) return { challenge, method: "trusted" as const, trustToken: tokens[i] };
        if (i < 5) return { challenge, method: "recovery" as const, code: p.recoveryCodes[0] };
        if (i < 7) return { challenge, method: "totp" as const, code: codeAt(p.secret), trust: true };
        return { challenge, method: "totp" as const, code: codeAt(p.secret) };
      }),
    );
    const contexts = inputs.map((_, i) => ctx(i));
    const m = await h.mark();
    const results = await Promise.all(inputs.map((input, i) => h.signIn(input, contexts[i])));
    expect(results.map(answerOf)).toEqual(Array(10).fill("ok"));
    const won = results.map((r, i) => ({ result: r as Extract<SecondStepResult, { ok: true }>, context: contexts[i] }));
    await h.expectRowsMatch(
      m,
      people.map((p) => p.id),
      won,
    );
    for (const [i, { result }] of won.entries()) {
      expect(result.user.id).toBe(people[i].id);
      expect(await h.usable(result)).toBe(true);
      const other = won[(i + 1) % won.length].result;
      expect(await refreshSession(t.db, { ...h.tokenOf(result), sub: other.user.id })).toBeNull();
      expect(await refreshSession(t.db, { ...h.tokenOf(result), sid: other.sid })).toBeNull();
    }
  });

  it("an IP of 100 characters and a user agent of 2 000: the row stores them bounded exactly as the audit entry does, on both finishes", async () => {
    const owner = await enrolledUser(t.db);
    const big: RequestContext = { ip: "9".repeat(100), userAgent: "U".repeat(2000) };
    const a = await h.signIn({ challenge: await openChallenge(t.db, owner), method: "totp", code: codeAt(owner.secret) }, big);
    const b = await h.signIn({ challenge: await openChallenge(t.db, owner), method: "recovery", code: owner.recoveryCodes[0] }, big);
    expect([a.ok, b.ok]).toEqual([true, true]);
    const rows = await h.rowsOf(owner.id);
    expect(rows).toHaveLength(2);
    const events = (await eventsAbout(t.db, owner.id)).filter((e) => e.event === "sign_in.succeeded");
    for (const row of rows) {
      expect(row.ip).toBe("9".repeat(64));
      expect(row.userAgent).toBe("U".repeat(512));
    }
    for (const e of events.slice(-2)) expect(e.ip).toBe("9".repeat(64));
  });

  describe("through the Credentials provider's authorize() and the jwt callback", () => {
    async function signInThrough(fields: Record<string, string>, headers: Record<string, string>) {
      const { signIn } = await import("@/lib/auth/next-auth");
      const scope: RequestScope = { headers: new Headers(headers), jar: new Map(), written: [] };
      try {
        await requestScopes.run(scope, () => signIn("credentials", { ...fields, redirect: false }));
      } catch (error) {
        return { ok: false as const, error, scope };
      }
      const cookie = scope.written.find((c) => c.name === "authjs.session-token");
      return { ok: true as const, token: JSON.parse(cookie!.value) as { sub: string; sid: string; sv: number; authTime: number }, scope };
    }

    it("the JWT's sid names the row the finish wrote, of this user, with this request's IP and browser; refused finishes write none; forged fields add nothing", async () => {
      await import("next/headers"); // creates the request scope's storage
      const owner = await enrolledUser(t.db);
      const headers = { "user-agent": "Mozilla/5.0 red-team", "x-forwarded-for": "203.0.113.250" };
      const refused = [
        await signInThrough({ challenge: await openChallenge(t.db, owner), method: "totp", code: wrongCode(owner.secret) }, headers),
        await signInThrough({ challenge: await openChallenge(t.db, owner), method: "none", code: "" }, headers),
        await signInThrough({ challenge: await openChallenge(t.db, owner), method: "passkey", code: "" }, headers),
        await signInThrough({ challenge: await openChallenge(t.db, owner), method: "constructor", code: codeAt(owner.secret) }, headers),
        await signInThrough({ challenge: "", method: "totp", code: codeAt(owner.secret) }, headers),
      ];
      expect(refused.map((r) => r.ok)).toEqual([false, false, false, false, false]);
      expect(await h.rowsOf(owner.id)).toHaveLength(0);
      const signed = await signInThrough(
        { challenge: await openChallenge(t.db, owner), method: "totp", code: codeAt(owner.secret), trust: "on", sid: "forged-sid", sessionVersion: "99", userId: randomUUID() },
        headers,
      );
      expect(signed.ok).toBe(true);
      if (!signed.ok) return;
      const rows = await h.rowsOf(owner.id);
      expect(rows).toHaveLength(1);
      expect(signed.token.sid).toBe(rows[0].sid);
      expect(signed.token.sid).not.toBe("forged-sid");
      expect(signed.token.sub).toBe(owner.id);
      expect(signed.token.sv).toBe((await userRow(t.db, owner.id)).sessionVersion);
      expect(rows[0].sessionVersion).toBe(signed.token.sv);
      expect(rows[0].userAgent).toBe("Mozilla/5.0 red-team");
      const audited = (await eventsAbout(t.db, owner.id)).filter((e) => e.event === "sign_in.succeeded");
      expect(audited).toHaveLength(1);
      expect(rows[0].ip).toBe(audited[0].ip); // the same context for both
      expect(await refreshSession(t.db, signed.token)).not.toBeNull();
      expect(signed.scope.written.some((c) => c.name === "trusted-browser" && c.value)).toBe(true);
    });
  });
});

// ================================================================ 4. revocation racing the finish

describe.each(testDrivers())("red team (session row) — revocation racing the finish, on %s", (driver) => {
  runAsTestRelyingParty();
  const t = useTestDatabase(driver);
  const h = helpers(t);
  beforeEach(() => resetSettings(t.db));

  async function mixedInputs(owner: EnrolledUser, n: number, token: string) {
    const challenges = await h.challengesOf(owner, n);
    return challenges.map((challenge, i) =>
      i % 4 === 0
        ? { challenge, method: "totp" as const, code: codeAt(owner.secret, -(i % 2)) }
        : i % 4 === 1
          ? { challenge, method: "totp" as const, code: codeAt(owner.secret, -(i % 2)), trust: true }
          : i % 4 === 2
            ? { challenge, method: "recovery" as const, code: owner.recoveryCodes[i % owner.recoveryCodes.length] }
            : { challenge, method: "trusted" as const, trustToken: token },
    );
  }

  /**
   * Open (not new: also at dbc83e2; docs/SECURITY.md, "Known gaps"): on PostgreSQL this burst sometimes deadlocks.
   * endSessions takes the user's row, then its trigger deletes the challenges; a guessable finish takes its
   * challenge, then the user's row (clearing failures); PostgreSQL aborts one of the two. What is asserted here is
   * what must hold whichever is aborted: no session of the burst outlives a committed sign-out.
   */
  it("sign out everywhere during a burst of 24 finishes (every method, trust on and off): every session issued from a challenge opened before it is dead afterwards; no error, no deadlock", async () => {
    for (let round = 0; round < 3; round++) {
      const owner = await enrolledUser(t.db);
      const token = await h.trustTokenOf(owner);
      const inputs = await mixedInputs(owner, 24, token);
      const versionBefore = (await userRow(t.db, owner.id)).sessionVersion;
      const work: Promise<unknown>[] = inputs.map((input, i) => h.signIn(input, ctx(i)));
      const labels = inputs.map(describeInput);
      for (let i = 0; i < 3; i++) {
        work.splice(4 + i * 8, 0, signOutEverywhere(t.db, owner.id, CONTEXT));
        labels.splice(4 + i * 8, 0, "signOutEverywhere");
      }
      const { values, errors } = await h.settle(work, labels);
      const won = oks(values.filter((v): v is SecondStepResult => typeof v === "object" && v !== null && ("sid" in v || "error" in v)));
      // Every challenge was opened before every sign-out: once one sign-out committed, no session of the burst may live.
      if ((await userRow(t.db, owner.id)).sessionVersion > versionBefore)
        for (const r of won) expect(await h.usable(r), `round ${round}: session ${r.sid} survived the sign-out everywhere`).toBe(false);
      // An aborted request (a deadlock: see above) granted nothing.
      for (const error of errors) expect(error).toMatch(/deadlock detected/);
    }
  });

  it("sign out everywhere landing right after the attempt's reservation (before the code is judged): refused, no row", async () => {
    const owner = await enrolledUser(t.db);
    for (const input of [
      (c: string) => ({ challenge: c, method: "totp" as const, code: codeAt(owner.secret) }),
      (c: string) => ({ challenge: c, method: "totp" as const, code: codeAt(owner.secret), trust: true }),
      (c: string) => ({ challenge: c, method: "recovery" as const, code: owner.recoveryCodes[0] }),
    ]) {
      const challenge = await h.challengeOf(owner);
      seams.afterReserve = () => signOutEverywhere(t.db, owner.id, CONTEXT);
      expect(answerOf(await h.signIn(input(challenge), CONTEXT))).toBe("challenge_expired");
    }
    expect(await h.rowsOf(owner.id)).toHaveLength(0);
    expect(await h.usedRecoveryCodes(owner.id)).toBe(0);
  });

  it("sign out everywhere sent while the finishing transaction holds the new row uncommitted: the session is dead once both commit", async () => {
    const owner = await enrolledUser(t.db);
    const token = await h.trustTokenOf(owner);
    const plain = await newUser(t.db);
    const cases = [
      { userId: owner.id, input: async () => ({ challenge: await h.challengeOf(owner), method: "trusted" as const, trustToken: token }) },
      { userId: owner.id, input: async () => ({ challenge: await h.challengeOf(owner), method: "totp" as const, code: codeAt(owner.secret), trust: true }) },
      { userId: plain.id, input: async () => ({ challenge: await h.challengeOf(plain), method: "none" as const }) },
      // Last: a recovery code forgets the trusted browsers.
      { userId: owner.id, input: async () => ({ challenge: await h.challengeOf(owner), method: "recovery" as const, code: owner.recoveryCodes[1] }) },
    ];
    for (const c of cases) {
      const input = await c.input();
      let bump: Promise<unknown> | undefined;
      seams.afterRecordSession = async () => {
        bump = signOutEverywhere(t.db, c.userId, CONTEXT); // waits for the finish's locks; not awaited here
        await sleep(100);
      };
      const r = await h.signIn(input, CONTEXT);
      await bump;
      const fired = seams.afterRecordSession === null;
      seams.afterRecordSession = null;
      expect(answerOf(r), input.method).toBe("ok");
      expect(fired, input.method).toBe(true);
      if (r.ok) expect(await h.usable(r), `${input.method}: the session survived the sign-out everywhere`).toBe(false);
      if (input.method === "totp") await rewindLastUsedStep(t.db, owner.id);
    }
  });
});

// ================================================================ 5. the failure accounting around the row

describe.each(testDrivers())("red team (session row) — failure accounting, on %s", (driver) => {
  runAsTestRelyingParty();
  const t = useTestDatabase(driver);
  const h = helpers(t);
  beforeEach(() => resetSettings(t.db));

  it("4 earlier failures, then the right proof (code, code with trust, recovery code, security key): one row, one sign_in.succeeded, the count and lock cleared", async () => {
    const owner = await enrolledUser(t.db);
    const keyOnly = await newUser(t.db);
    const { key } = await addKey(t.db, keyOnly);
    const proofs: [string, string, () => Promise<Partial<SecondStepInput> & { challenge: string; method: SecondStepMethod }>][] = [
      ["totp", owner.id, async () => ({ challenge: await h.challengeOf(owner), method: "totp", code: codeAt(owner.secret) })],
      ["totp+trust", owner.id, async () => ({ challenge: await h.challengeOf(owner), method: "totp", code: codeAt(owner.secret), trust: true })],
      ["recovery", owner.id, async () => ({ challenge: await h.challengeOf(owner), method: "recovery", code: owner.recoveryCodes[0] })],
      [
        "security_key",
        keyOnly.id,
        async () => {
          const challenge = await h.challengeOf(keyOnly);
          const started = await startKeySignIn(t.db, challenge);
          if (!started.ok) throw new Error(started.error);
          return { challenge, method: "security_key", assertion: key.assert(started.options) };
        },
      ],
    ];
    for (const [name, userId, proof] of proofs) {
      await h.setFailures(userId, MAX_SECOND_FACTOR_FAILURES - 1);
      const before = await h.count(userId, "sign_in.succeeded");
      const rowsBefore = (await h.rowsOf(userId)).length;
      const r = await h.signIn(await proof(), CONTEXT);
      expect(r.ok, name).toBe(true);
      expect(await h.count(userId, "sign_in.succeeded"), name).toBe(before + 1);
      expect((await h.rowsOf(userId)).length, name).toBe(rowsBefore + 1);
      expect(await h.lockState(userId), name).toEqual({ failures: 0, lockouts: 0, lockedUntil: null });
      await rewindLastUsedStep(t.db, owner.id);
    }
  });

  it("wrong code, wrong recovery code, junk key: each audited once and counted once, no row; the 5th locks and is audited", async () => {
    const owner = await enrolledUser(t.db);
    const challenge = await h.challengeOf(owner);
    await h.signIn({ challenge, method: "totp", code: wrongCode(owner.secret) });
    await h.signIn({ challenge, method: "totp", code: wrongCode(owner.secret), trust: true });
    await h.signIn({ challenge, method: "recovery", code: "abcd-efgh-jkmn-pqrs-tvwx-yz01" });
    await h.signIn({ challenge, method: "security_key", assertion: { id: "AAAA", response: {} } });
    expect(await h.count(owner.id, "sign_in.code_failed")).toBe(3);
    expect(await h.lockState(owner.id)).toMatchObject({ failures: 4 });
    expect(answerOf(await h.signIn({ challenge, method: "totp", code: wrongCode(owner.secret) }))).toBe("locked_out");
    expect(await h.count(owner.id, "sign_in.locked_out")).toBe(1);
    expect(await h.rowsOf(owner.id)).toHaveLength(0);
    expect(await h.alive(challenge)).toBe(true);
  });

  it("password-only and forced-enrollment finishes: one row and one sign_in.succeeded each, audited with their factor", async () => {
    const plain = await newUser(t.db);
    const m = await h.mark();
    const a = await h.signIn({ challenge: await openChallenge(t.db, plain), method: "none" }, CONTEXT);
    const { user: forced, enrolled } = await enrolledChallenge(t.db);
    const b = await h.signIn({ challenge: enrolled, method: "enrolled" }, CONTEXT);
    expect([a.ok, b.ok]).toEqual([true, true]);
    await h.expectRowsMatch(m, [plain.id, forced.id], [
      { result: a as Extract<SecondStepResult, { ok: true }>, context: CONTEXT },
      { result: b as Extract<SecondStepResult, { ok: true }>, context: CONTEXT },
    ]);
    const factors = [...(await eventsAbout(t.db, plain.id)), ...(await eventsAbout(t.db, forced.id))]
      .filter((e) => e.event === "sign_in.succeeded")
      .map((e) => (e.details as { factor: string }).factor);
    expect(factors.sort()).toEqual(["password", "totp_enrollment"]);
    // The "enrolled" challenge is spent: a second finish writes nothing.
    expect(answerOf(await h.signIn({ challenge: enrolled, method: "enrolled" }, CONTEXT))).toBe("challenge_expired");
    expect(await h.rowsOf(forced.id)).toHaveLength(1);
  });

  it("3 earlier failures, 12 parallel right-code finishes of ONE challenge (trust on and off): one row, one sign_in.succeeded; any lock left behind is on record", async () => {
    for (let round = 0; round < 3; round++) {
      const owner = await enrolledUser(t.db);
      await h.setFailures(owner.id, MAX_SECOND_FACTOR_FAILURES - 2);
      const challenge = await openChallenge(t.db, owner);
      const { values, errors } = await h.settle(Array.from({ length: 12 }, (_, i) => h.signIn({ challenge, method: "totp", code: codeAt(owner.secret), trust: i % 2 === 1 }, ctx(i))));
      expect(errors, `round ${round}`).toEqual([]);
      expect(oks(values), `round ${round}`).toHaveLength(1);
      expect(await h.rowsOf(owner.id)).toHaveLength(1);
      expect(await h.count(owner.id, "sign_in.succeeded")).toBe(1);
      const state = await h.lockState(owner.id);
      if (state.lockedUntil !== null) expect(await h.count(owner.id, "sign_in.locked_out"), `round ${round}: a lock nobody audited`).toBeGreaterThan(0);
    }
  });

  /**
   * FOUND (not new: the same at dbc83e2; fixed in lib/auth/second-step.ts, a counted attempt whose challenge was lost is
   * audited as a refused guess): a guessable finish that
   * is judged right but then loses its challenge (finishSecondStep → "challenge") returns challenge_expired with no
   * audit entry, and its reservation stays counted: when it was the 5th, the owner is locked for 15 min and neither
   * sign_in.locked_out nor the notice mail exists.
   */
  it("4 earlier failures; the owner's right code reserves the 5th attempt (it locks) while the browser's trusted-token finish takes the same challenge: one row, and the lock the right code started is cleared or on record", async () => {
    const owner = await enrolledUser(t.db);
    const token = await h.trustTokenOf(owner);
    await h.setFailures(owner.id, MAX_SECOND_FACTOR_FAILURES - 1);
    const challenge = await openChallenge(t.db, owner);
    let trusted: SecondStepResult | undefined;
    seams.afterReserve = async () => {
      trusted = await h.signIn({ challenge, method: "trusted", trustToken: token }, CONTEXT);
    };
    const coded = await h.signIn({ challenge, method: "totp", code: codeAt(owner.secret) }, CONTEXT);
    expect(trusted?.ok).toBe(true);
    expect(answerOf(coded)).toBe("challenge_expired");
    expect(await h.rowsOf(owner.id)).toHaveLength(1);
    const state = await h.lockState(owner.id);
    const events = (await eventsAbout(t.db, owner.id)).map((e) => e.event);
    if (state.lockedUntil !== null) expect(events, "the owner is now locked out of the second step, and the audit log does not say so").toContain("sign_in.locked_out");
  });

  /**
   * FOUND (not new: reproduced at dbc83e2; fixed with the one above): the recovery factor's verify() accepts any well-formed code
   * (the hash is checked in consume()); when the challenge is gone by then — spent by the attacker's own refused
   * "none" finish — the finish ends as "challenge" (challenge_expired): counted, never audited as sign_in.code_failed,
   * the 5th locks with no sign_in.locked_out and no notifyCodeRefused mail. A password holder can so lock the owner's
   * second step (escalating) while the log shows only sign_in.finish_refused.
   */
  it("a password holder's well-formed wrong recovery code, its challenge spent under it by a refused 'none' finish (right after the reservation): the counted attempt is audited, and the lock it starts is on record", async () => {
    const owner = await enrolledUser(t.db);
    await h.setFailures(owner.id, MAX_SECOND_FACTOR_FAILURES - 1);
    const challenge = await h.challengeOf(owner);
    seams.afterReserve = () => h.signIn({ challenge, method: "none" }); // refused: spends the challenge, counts nothing
    const guess = await h.signIn({ challenge, method: "recovery", code: "abcd-efgh-jkmn-pqrs-tvwx-yz01" });
    const state = await h.lockState(owner.id);
    const events = (await eventsAbout(t.db, owner.id)).map((e) => e.event);
    expect(answerOf(guess)).not.toBe("ok");
    expect(await h.rowsOf(owner.id)).toHaveLength(0);
    expect(state.lockedUntil, "the guess was counted (the 5th) and locked").not.toBeNull();
    expect(events, "a counted guess that the audit log does not show").toContain("sign_in.code_failed");
    expect(events, "a lock that the audit log does not show (and no notice mail: refuseGuess never ran)").toContain("sign_in.locked_out");
  });

  it("the same as a burst: a password holder sends 5 well-formed wrong recovery codes and 'none' over one challenge, in parallel: every counted attempt is audited", async () => {
    for (let round = 0; round < 3; round++) {
      const owner = await enrolledUser(t.db);
      const challenge = await h.challengeOf(owner);
      const work = [
        ...Array.from({ length: 5 }, (_, i) => h.signIn({ challenge, method: "recovery", code: `abcd-efgh-jkmn-pqrs-tvwx-yz0${i}` })),
        h.signIn({ challenge, method: "none" }),
      ].sort(() => Math.random() - 0.5);
      const results = await Promise.all(work);
      expect(oks(results)).toHaveLength(0);
      const state = await h.lockState(owner.id);
      const counted = state.lockedUntil !== null ? MAX_SECOND_FACTOR_FAILURES : state.failures;
      const audited = (await h.count(owner.id, "sign_in.code_failed")) + (await h.count(owner.id, "sign_in.code_replayed"));
      expect({ round, audited, locked: state.lockedUntil !== null, lockAudited: (await h.count(owner.id, "sign_in.locked_out")) > 0 }).toEqual({
        round,
        audited: counted,
        locked: state.lockedUntil !== null,
        lockAudited: state.lockedUntil !== null,
      });
    }
  });
});

// Unused helper imports kept for readers extending the file.
void rawRows;
void totpCredentials;
