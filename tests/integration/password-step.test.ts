import { and, eq, sql, type SQL } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { passwordFailures, rateLimits, signInChallenges } from "@/db/schema";
import { passwordStep, PASSWORD_FAILURES_PER_ACCOUNT, PASSWORD_FAILURES_PER_IP } from "@/lib/auth/sign-in";
import { sha256Hex } from "@/lib/crypto";
import { passwordStepSchema } from "@/lib/validation/forms";
import { testDrivers, useTestDatabase } from "./support/databases";
import { CONTEXT, enrolledUser, eventsAbout, newUser, rawRows } from "./support/fixtures";

describe.each(testDrivers())("password step on %s", (driver) => {
  const t = useTestDatabase(driver);

  const rateLimitRow = async (key: string) => (await t.db.select().from(rateLimits).where(eq(rateLimits.key, key)))[0];
  const setFailures = (key: string, count: number, windowStartedAt = sql`now()`) =>
    t.db.insert(rateLimits).values({ key, count, windowStartedAt }).onConflictDoUpdate({
      target: rateLimits.key,
      set: { count, windowStartedAt },
    });
  const accountFailures = async (userId: string) =>
    (await t.db.select().from(passwordFailures).where(and(eq(passwordFailures.userId, userId), eq(passwordFailures.counter, "sign-in"))))[0];
  const setAccountFailures = (userId: string, failures: number, lock: { lockouts: number; lockedUntil: SQL } | null = null) =>
    t.db.insert(passwordFailures).values({ userId, counter: "sign-in", failures, ...lock });

  it("opens a challenge for the right password, storing only its SHA-256", async () => {
    const user = await newUser(t.db);
    const result = await passwordStep(t.db, { email: user.email, password: user.password }, CONTEXT);
    expect(result).toEqual({
      ok: true,
      userId: user.id,
      challenge: expect.any(String),
      secondFactorDue: false,
      enrollmentDue: false,
      factors: { totp: false, keys: false },
      knownDevice: expect.stringMatching(new RegExp(`^v1\\.${user.id}\\.`)),
    });
    const challenge = (result as { challenge: string }).challenge;
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await t.db.select().from(signInChallenges).where(eq(signInChallenges.userId, user.id));
    expect(rows).toHaveLength(1);
    expect(rows[0].tokenHash).toBe(sha256Hex(challenge));
    expect(rows[0].purpose).toBe("sign_in");
    const ttl = rows[0].expiresAt.getTime() - rows[0].createdAt.getTime();
    expect(ttl).toBe(5 * 60 * 1000);
  });

  it("says a second factor is due for a user with confirmed TOTP", async () => {
    const user = await enrolledUser(t.db);
    const result = await passwordStep(t.db, { email: user.email, password: user.password }, CONTEXT);
    expect(result).toMatchObject({ ok: true, secondFactorDue: true });
  });

  it("refuses a wrong password with no challenge and audits it", async () => {
    const user = await newUser(t.db);
    const result = await passwordStep(t.db, { email: user.email, password: `${user.password}!` }, CONTEXT);
    expect(result).toEqual({ ok: false });
    expect(await t.db.select().from(signInChallenges).where(eq(signInChallenges.userId, user.id))).toHaveLength(0);
    const events = await eventsAbout(t.db, user.id);
    expect(events.at(-1)).toMatchObject({
      event: "sign_in.password_failed",
      ip: CONTEXT.ip,
      details: { reason: "bad_credentials" },
    });
  });

  it("answers an unknown email exactly like a wrong password (no account enumeration)", async () => {
    const known = await newUser(t.db);
    const wrongPassword = await passwordStep(t.db, { email: known.email, password: "nope" }, CONTEXT);
    const unknownEmail = await passwordStep(t.db, { email: "nobody-here@example.test", password: "nope" }, CONTEXT);
    expect(unknownEmail).toEqual(wrongPassword);
    expect(Object.keys(unknownEmail)).toEqual(["ok"]);
    const [event] = await rawRows<{ n: number }>(
      t.db,
      sql`select count(*)::int as n from audit_events where event = 'sign_in.password_failed' and target_user_id is null`,
    );
    expect(event.n).toBeGreaterThanOrEqual(1);
  });

  it("signs in with an email as typed once the form schema normalised it", async () => {
    const user = await newUser(t.db);
    const input = passwordStepSchema.parse({ email: `  ${user.email.toUpperCase()} `, password: user.password });
    expect(await passwordStep(t.db, input, CONTEXT)).toMatchObject({ ok: true, userId: user.id });
  });

  it("counts each wrong password against the account and the IP", async () => {
    const user = await newUser(t.db);
    const context = { ip: "198.51.100.21", userAgent: "vitest" };
    for (let i = 0; i < 3; i++) await passwordStep(t.db, { email: user.email, password: "wrong" }, context);
    expect((await accountFailures(user.id))?.failures).toBe(3);
    expect((await rateLimitRow(`password:ip:${context.ip}`))?.count).toBe(3);
  });

  it("stops password guessing on one account after 100 consecutive failures, even with the right password", async () => {
    expect(PASSWORD_FAILURES_PER_ACCOUNT).toBe(100);
    const user = await newUser(t.db);
    await setAccountFailures(user.id, PASSWORD_FAILURES_PER_ACCOUNT - 1);
    const context = { ip: "198.51.100.22", userAgent: "vitest" };

    // The 100th failure still gets a real answer …
    expect(await passwordStep(t.db, { email: user.email, password: "wrong" }, context)).toEqual({ ok: false });
    expect((await accountFailures(user.id))?.failures).toBe(100);
    // … after it, even the right password is refused, with the same answer.
    expect(await passwordStep(t.db, { email: user.email, password: user.password }, context)).toEqual({ ok: false });
    expect(await t.db.select().from(signInChallenges).where(eq(signInChallenges.userId, user.id))).toHaveLength(0);
    expect((await eventsAbout(t.db, user.id)).at(-1)).toMatchObject({
      event: "sign_in.password_failed",
      details: { reason: "rate_limited" },
    });
  });

  it("limits only the attacked account: another account signs in from the same IP", async () => {
    const victim = await newUser(t.db);
    const other = await newUser(t.db);
    await setAccountFailures(victim.id, PASSWORD_FAILURES_PER_ACCOUNT, { lockouts: 1, lockedUntil: sql`now() + interval '1 hour'` });
    expect(await passwordStep(t.db, { email: victim.email, password: victim.password }, CONTEXT)).toEqual({ ok: false });
    expect(await passwordStep(t.db, { email: other.email, password: other.password }, CONTEXT)).toMatchObject({ ok: true });
  });

  it("lets the account sign in again once its lock has expired, restarting the count", async () => {
    const user = await newUser(t.db);
    await setAccountFailures(user.id, 500, { lockouts: 3, lockedUntil: sql`now() - interval '1 second'` });
    expect(await passwordStep(t.db, { email: user.email, password: user.password }, CONTEXT)).toMatchObject({ ok: true });
    await passwordStep(t.db, { email: user.email, password: "wrong" }, CONTEXT);
    expect(await accountFailures(user.id)).toMatchObject({ failures: 1, lockouts: 0, lockedUntil: null });
  });

  it("stops one host spraying many accounts after 300 failures from its IP", async () => {
    expect(PASSWORD_FAILURES_PER_IP).toBe(300);
    const user = await newUser(t.db);
    const sprayer = { ip: "198.51.100.66", userAgent: "spray" };
    await setFailures(`password:ip:${sprayer.ip}`, PASSWORD_FAILURES_PER_IP);
    expect(await passwordStep(t.db, { email: user.email, password: user.password }, sprayer)).toEqual({ ok: false });
    // The same account from another address is not affected.
    const elsewhere = { ip: "198.51.100.67", userAgent: "vitest" };
    expect(await passwordStep(t.db, { email: user.email, password: user.password }, elsewhere)).toMatchObject({ ok: true });
  });

});
