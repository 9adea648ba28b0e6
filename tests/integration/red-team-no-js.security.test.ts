import { eq, sql } from "drizzle-orm";
import type { JWT } from "next-auth/jwt";
import { afterEach, describe, expect, it } from "vitest";
import { sessions, users } from "@/db/schema";
import { signOutEverywhere } from "@/lib/account/sessions";
import { completeSignIn } from "@/lib/auth/second-step";
import { deleteSession, refreshSession } from "@/lib/auth/session-records";
import { passwordStep } from "@/lib/auth/sign-in";
import { testDrivers, useTestDatabase } from "./support/databases";
import { CONTEXT, codeAt, enrolledUser, newUser, openChallenge, rewindLastUsedStep, issueSession, type TestUser } from "./support/fixtures";

/**
 * Red team: the statements prepared once per database handle (db/prepared.ts) —
 * the per-request session check (lib/auth/session-records.ts) and the sign-in
 * statements (password step, challenge, finish). Their state must never leak
 * between users, sessions, executions or settings: each execution reads only
 * its own values, whatever ran before it on the same handle or connection.
 */
describe.each(testDrivers())("red team: prepared statements on %s", (driver) => {
  const t = useTestDatabase(driver);
  afterEach(() => {
    delete process.env.SESSION_IDLE_MINUTES;
  });

  const signIn = (user: TestUser): Promise<JWT> => issueSession(t.db, user);
  /** Past PostgreSQL's five custom plans: from here a generic plan may be cached for the statement. */
  async function warm(token: JWT) {
    for (let i = 0; i < 8; i++) expect(await refreshSession(t.db, token)).not.toBeNull();
  }
  const setLastActive = (token: JWT, ago: string) =>
    t.db.update(sessions).set({ lastActiveAt: sql`now() - ${ago}::interval` }).where(eq(sessions.sid, String(token.sid)));

  it("many users' session checks in parallel on one handle: each gets its own user's row, never another's", async () => {
    const people = await Promise.all(Array.from({ length: 8 }, () => newUser(t.db)));
    const tokens = await Promise.all(people.flatMap((p) => [signIn(p), signIn(p)]));
    const answers = await Promise.all(Array.from({ length: 5 }, () => tokens.map((token) => refreshSession(t.db, token))).flat());
    answers.forEach((answer, i) => {
      const token = tokens[i % tokens.length];
      const person = people.find((p) => p.id === token.sub)!;
      expect(answer).toMatchObject({ sub: person.id, sid: token.sid, email: person.email, name: person.name });
    });
  });

  it("another user's session id under this user's sub (and the other way round) is refused, after warm-up", async () => {
    const [a, b] = [await newUser(t.db), await newUser(t.db)];
    const [ta, tb] = [await signIn(a), await signIn(b)];
    await warm(ta);
    await warm(tb);
    expect(await refreshSession(t.db, { ...ta, sid: tb.sid })).toBeNull();
    expect(await refreshSession(t.db, { ...tb, sid: ta.sid })).toBeNull();
    expect(await refreshSession(t.db, { ...ta, sub: b.id, sv: tb.sv })).toBeNull();
    // Forged types in the claims (what a decoded JWT could hold): refused, no exception.
    for (const sid of [123, null, ["x"], { toString: () => String(ta.sid) }] as unknown[]) {
      expect(await refreshSession(t.db, { ...ta, sid } as JWT)).toBeNull();
    }
    // A sub that is no user id (reachable only with AUTH_SECRET): signed out, not an error from the database.
    for (const sub of [undefined, "", "not-a-uuid", `${a.id}'`, a.id.toUpperCase() + "0"]) {
      await expect(refreshSession(t.db, { ...ta, sub } as JWT)).resolves.toBeNull();
    }
  });

  it("a revoked session stays revoked though its statement ran a hundred times: signed out, version bumped, user deleted", async () => {
    const user = await newUser(t.db);
    const [one, two, three] = [await signIn(user), await signIn(user), await signIn(user)];
    for (let i = 0; i < 100; i++) await refreshSession(t.db, [one, two, three][i % 3]);
    expect(await deleteSession(t.db, String(one.sid), user.id)).toBe(1);
    expect(await refreshSession(t.db, one)).toBeNull();
    expect(await refreshSession(t.db, two)).not.toBeNull();
    await signOutEverywhere(t.db, user.id, CONTEXT);
    expect(await refreshSession(t.db, two)).toBeNull();
    expect(await refreshSession(t.db, three)).toBeNull();
    const other = await newUser(t.db);
    const token = await signIn(other);
    await warm(token);
    await t.db.delete(users).where(eq(users.id, other.id));
    expect(await refreshSession(t.db, token)).toBeNull();
  });

  it("revocation in parallel with the checks: once the delete commits, no later check accepts the session", async () => {
    const user = await newUser(t.db);
    const token = await signIn(user);
    await warm(token);
    await Promise.all([...Array.from({ length: 10 }, () => refreshSession(t.db, token)), deleteSession(t.db, String(token.sid), user.id)]);
    const after = await Promise.all(Array.from({ length: 10 }, () => refreshSession(t.db, token)));
    expect(after.every((answer) => answer === null)).toBe(true);
  });

  it("SESSION_IDLE_MINUTES changed while the process runs is honoured at once, both ways (the limit is a value, not the text)", async () => {
    const user = await newUser(t.db);
    const token = await signIn(user);
    await warm(token);
    await setLastActive(token, "20 minutes");
    process.env.SESSION_IDLE_MINUTES = "15";
    for (let i = 0; i < 8; i++) expect(await refreshSession(t.db, token)).toBeNull();
    process.env.SESSION_IDLE_MINUTES = "30";
    expect(await refreshSession(t.db, token)).not.toBeNull();
    await setLastActive(token, "20 minutes");
    process.env.SESSION_IDLE_MINUTES = "1";
    expect(await refreshSession(t.db, token)).toBeNull();
    // A broken value is an operator's error, reported; it never means "no limit".
    process.env.SESSION_IDLE_MINUTES = "0";
    await expect(refreshSession(t.db, token)).rejects.toThrow(/SESSION_IDLE_MINUTES/);
    process.env.SESSION_IDLE_MINUTES = "1 or true";
    await expect(refreshSession(t.db, token)).rejects.toThrow(/SESSION_IDLE_MINUTES/);
  });

  it("inside a transaction the check sees the transaction's own revocation, and the handle's statement sees the rollback", async () => {
    const user = await newUser(t.db);
    const token = await signIn(user);
    await warm(token);
    await t.db
      .transaction(async (tx) => {
        expect(await refreshSession(tx, token)).not.toBeNull();
        await tx.delete(sessions).where(eq(sessions.sid, String(token.sid)));
        expect(await refreshSession(tx, token)).toBeNull();
        throw new Error("rollback");
      })
      .catch((error: Error) => expect(error.message).toBe("rollback"));
    expect(await refreshSession(t.db, token)).not.toBeNull();
  });

  it("password steps of several users in parallel on the prepared statements: each challenge finishes as its own user only", async () => {
    const people = await Promise.all(Array.from({ length: 4 }, () => enrolledUser(t.db)));
    const steps = await Promise.all(people.flatMap((p) => [passwordStep(t.db, { email: p.email, password: p.password }, CONTEXT), passwordStep(t.db, { email: p.email, password: "wrong password entirely" }, CONTEXT)]));
    steps.forEach((step, i) => {
      const person = people[Math.floor(i / 2)];
      if (i % 2 === 1) return expect(step.ok).toBe(false);
      expect(step).toMatchObject({ ok: true, userId: person.id, secondFactorDue: true });
    });
    // Each challenge with the other user's current code: refused; with its own: that user.
    const challenges = steps.filter((s) => s.ok).map((s) => (s as { challenge: string }).challenge);
    const crossed = await Promise.all(challenges.map((challenge, i) => completeSignIn(t.db, { challenge, method: "totp", code: codeAt(people[(i + 1) % people.length].secret) }, CONTEXT)));
    // A wrong code spends nothing but an attempt: the challenge is still open.
    for (const [i, result] of crossed.entries()) {
      if (result.ok) expect(codeAt(people[i].secret)).toBe(codeAt(people[(i + 1) % people.length].secret));
    }
    const own = await Promise.all(challenges.map((challenge, i) => completeSignIn(t.db, { challenge, method: "totp", code: codeAt(people[i].secret) }, CONTEXT)));
    own.forEach((result, i) => expect(result).toMatchObject({ ok: true, user: { id: people[i].id, email: people[i].email } }));
  });

  it("method confusion at the finish after warm-up: none, enrolled, trusted, security_key without assertion never finish a code challenge", async () => {
    const user = await enrolledUser(t.db);
    for (const method of ["none", "enrolled", "trusted", "security_key"] as const) {
      const challenge = await openChallenge(t.db, user);
      const result = await completeSignIn(t.db, { challenge, method, code: codeAt(user.secret), trustToken: "", assertion: undefined }, CONTEXT);
      expect(result.ok, method).toBe(false);
    }
    await rewindLastUsedStep(t.db, user.id);
    // …and the user still signs in afterwards (no lock from four refusals).
    const challenge = await openChallenge(t.db, user);
    expect(await completeSignIn(t.db, { challenge, method: "totp", code: codeAt(user.secret) }, CONTEXT)).toMatchObject({ ok: true });
  });
});
