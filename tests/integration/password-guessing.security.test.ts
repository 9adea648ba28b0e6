import { randomInt } from "node:crypto";
import { and, eq, like, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { passwordFailures, rateLimits, signInChallenges } from "@/db/schema";
import type { RequestContext } from "@/lib/audit";
import { changePassword } from "@/lib/account/password";
import { confirmAdmin } from "@/lib/admin/step-up";
import { passwordStep } from "@/lib/auth/sign-in";
import { testDrivers, useTestDatabase } from "./support/databases";
import { databaseNow, eventsAbout, newSession, newUser, PASSWORD, type TestUser } from "./support/fixtures";

/** A fresh address per test, so the per-IP counter of one test never limits another. */
const freshContext = (userAgent = "attacker"): RequestContext => ({
  ip: `198.18.${randomInt(256)}.${randomInt(256)}`,
  userAgent,
});

describe.each(testDrivers())("password guessing on %s", (driver) => {
  const t = useTestDatabase(driver);

  /** How the password step judged each refused attempt: verified and wrong, or refused unverified. */
  const refusals = async (userId: string) => {
    const reasons = (await eventsAbout(t.db, userId))
      .filter((e) => e.event === "sign_in.password_failed")
      .map((e) => (e.details as { reason?: string }).reason);
    return { verified: reasons.filter((r) => r === "bad_credentials").length, limited: reasons.filter((r) => r === "rate_limited").length };
  };
  const wrongPasswords = async (user: TestUser, count: number, context: RequestContext) => {
    for (let i = 0; i < count; i++) expect(await passwordStep(t.db, { email: user.email, password: `guess-${i}` }, context)).toEqual({ ok: false });
  };
  /** Earlier wrong passwords on the account's counter, written directly (each real one costs an argon2 run). */
  const priorFailures = (user: TestUser, failures: number) => t.db.insert(passwordFailures).values({ userId: user.id, counter: "sign-in", failures });
  const burst = <T>(count: number, attempt: (i: number) => Promise<T>) => Promise.all(Array.from({ length: count }, (_, i) => attempt(i)));

  it("99 failures + 20 parallel wrong passwords count exactly to the limit and the right password is refused once limited", async () => {
    const user = await newUser(t.db);
    const attacker = freshContext();
    await priorFailures(user, 99);
    const answers = await burst(20, (i) => passwordStep(t.db, { email: user.email, password: `parallel-${i}` }, attacker));
    expect(answers).toEqual(Array(20).fill({ ok: false }));
    // Exactly one of the twenty was checked against the hash (the 100th failure); nineteen were refused unverified.
    expect(await refusals(user.id)).toEqual({ verified: 1, limited: 19 });
    expect(await t.db.select().from(passwordFailures).where(eq(passwordFailures.userId, user.id))).toEqual([
      expect.objectContaining({ counter: "sign-in", failures: 100, lockouts: 1 }),
    ]);
    expect(await passwordStep(t.db, { email: user.email, password: user.password }, attacker)).toEqual({ ok: false });
    expect(await passwordStep(t.db, { email: user.email, password: user.password }, freshContext("elsewhere"))).toEqual({ ok: false });
    expect(await t.db.select().from(signInChallenges).where(eq(signInChallenges.userId, user.id))).toHaveLength(0);
  });

  it("a success resets the consecutive counter", async () => {
    const user = await newUser(t.db);
    const context = freshContext("owner");
    await priorFailures(user, 99);
    expect(await passwordStep(t.db, { email: user.email, password: user.password }, context)).toMatchObject({ ok: true });
    // A typo after the success is the first consecutive failure, not the 101st: no lock, the owner still gets in.
    await wrongPasswords(user, 1, context);
    expect(await t.db.select().from(passwordFailures).where(eq(passwordFailures.userId, user.id))).toEqual([
      expect.objectContaining({ counter: "sign-in", failures: 1, lockedUntil: null }),
    ]);
    expect(await passwordStep(t.db, { email: user.email, password: user.password }, context)).toMatchObject({ ok: true });
  });

  it("a stranger's 100 wrong passwords do not lock out the owner's known browser", async () => {
    const owner = await newUser(t.db);
    const first = await passwordStep(t.db, { email: owner.email, password: owner.password }, freshContext("owner"));
    if (!first.ok) throw new Error("the owner's first sign-in failed");
    const stranger = freshContext("stranger");
    await priorFailures(owner, 99);
    await wrongPasswords(owner, 1, stranger);
    // The account is locked for everyone without a known browser, the stranger with the right password included …
    expect(await passwordStep(t.db, { email: owner.email, password: owner.password }, stranger)).toEqual({ ok: false });
    // … but the owner's browser counts on its own counter, and still signs in (keeping its device id).
    const again = await passwordStep(t.db, { email: owner.email, password: owner.password, knownDevice: first.knownDevice }, freshContext("owner"));
    expect(again).toMatchObject({ ok: true, userId: owner.id, knownDevice: first.knownDevice });
    // The cookie skips nothing: a wrong password from the known browser is refused, and counted there.
    expect(await passwordStep(t.db, { email: owner.email, password: "typo", knownDevice: first.knownDevice }, freshContext("owner"))).toEqual({ ok: false });
    const [row] = await t.db.select().from(passwordFailures).where(and(eq(passwordFailures.userId, owner.id), like(passwordFailures.counter, "device:%")));
    expect(row.failures).toBe(1);
  });

  it("a forged / other user's known-device cookie changes nothing", async () => {
    const owner = await newUser(t.db);
    const mallory = await newUser(t.db);
    const ownerFirst = await passwordStep(t.db, { email: owner.email, password: owner.password }, freshContext("owner"));
    const malloryFirst = await passwordStep(t.db, { email: mallory.email, password: mallory.password }, freshContext("mallory"));
    if (!ownerFirst.ok || !malloryFirst.ok) throw new Error("a first sign-in failed");
    const [, , deviceId, signature] = ownerFirst.knownDevice.split(".");
    const cookies = [
      malloryFirst.knownDevice, // Mallory's own, valid, cookie
      `v1.${owner.id}.${malloryFirst.knownDevice.split(".")[2]}.${malloryFirst.knownDevice.split(".")[3]}`, // hers, relabelled
      `v1.${owner.id}.${"A".repeat(22)}.${signature}`, // the owner's signature on another device id
      `v1.${owner.id}.${deviceId}.${signature.slice(0, -2)}AA`, // a tampered signature
      `v1.${owner.id}.${deviceId}`, // no signature
    ];
    const stranger = freshContext("mallory");
    await priorFailures(owner, 100 - cookies.length);
    for (let i = 0; i < cookies.length; i++) {
      const knownDevice = cookies[i];
      expect(await passwordStep(t.db, { email: owner.email, password: `guess-${i}`, knownDevice }, stranger)).toEqual({ ok: false });
    }
    // Every one landed on the account's counter: locked, whichever cookie comes with the right password.
    for (const knownDevice of cookies) {
      expect(await passwordStep(t.db, { email: owner.email, password: owner.password, knownDevice }, stranger)).toEqual({ ok: false });
    }
    expect(await t.db.select().from(passwordFailures).where(eq(passwordFailures.userId, owner.id))).toEqual([
      expect.objectContaining({ counter: "sign-in", failures: 100 }),
    ]);
    // The owner's real browser is unaffected.
    expect(await passwordStep(t.db, { email: owner.email, password: owner.password, knownDevice: ownerFirst.knownDevice }, freshContext("owner"))).toMatchObject({ ok: true });
  });

  it("a patient stranger gets only 10 more guesses after each lock, each lock twice as long, with no hourly reset", async () => {
    const user = await newUser(t.db);
    const stranger = freshContext("patient");
    await priorFailures(user, 90);
    const expireLock = () =>
      t.db.update(passwordFailures).set({ lockedUntil: sql`now() - interval '1 second'` }).where(eq(passwordFailures.userId, user.id));
    const lockSeconds = async () => {
      const [row] = await t.db.select().from(passwordFailures).where(eq(passwordFailures.userId, user.id));
      return Math.round((row.lockedUntil!.getTime() - (await databaseNow(t.db)).getTime()) / 1000);
    };
    await wrongPasswords(user, 10, stranger);
    expect(await lockSeconds()).toBeGreaterThan(3590);
    await expireLock();
    await wrongPasswords(user, 10, stranger);
    expect(await passwordStep(t.db, { email: user.email, password: user.password }, stranger)).toEqual({ ok: false });
    expect(await lockSeconds()).toBeGreaterThan(7190);
    expect(await refusals(user.id)).toEqual({ verified: 20, limited: 1 });
    await expireLock();
    // Once a lock is over the right password signs in, and the count starts again from nothing.
    expect(await passwordStep(t.db, { email: user.email, password: user.password }, stranger)).toMatchObject({ ok: true });
    expect(await t.db.select().from(passwordFailures).where(eq(passwordFailures.userId, user.id))).toEqual([]);
  });

  it("one host's 299 failures + 20 parallel wrong passwords on 20 accounts count exactly to the per-IP limit of 300", async () => {
    const sprayer = freshContext("spray");
    await t.db.insert(rateLimits).values({ key: `password:ip:${sprayer.ip}`, count: 299, windowStartedAt: new Date() });
    const victims = await burst(20, () => newUser(t.db));
    const answers = await burst(20, (i) => passwordStep(t.db, { email: victims[i].email, password: "Summer2026!" }, sprayer));
    expect(answers).toEqual(Array(20).fill({ ok: false }));
    const judged = await Promise.all(victims.map((v) => refusals(v.id)));
    expect(judged.reduce((sum, r) => sum + r.verified, 0)).toBe(1);
    expect(judged.reduce((sum, r) => sum + r.limited, 0)).toBe(19);
    const [row] = await t.db.select().from(rateLimits).where(eq(rateLimits.key, `password:ip:${sprayer.ip}`));
    expect(row.count).toBe(300);
    // From that host even the right password is refused; from another, the same account signs in.
    expect(await passwordStep(t.db, { email: victims[0].email, password: PASSWORD }, sprayer)).toEqual({ ok: false });
    expect(await passwordStep(t.db, { email: victims[0].email, password: PASSWORD }, freshContext("owner"))).toMatchObject({ ok: true });
  });

  it("Change password: 9 failures + 20 parallel wrong current passwords count exactly to 10 and the right one is refused once limited", async () => {
    const user = await newUser(t.db);
    const context = freshContext("stolen session");
    for (let i = 0; i < 9; i++) expect(await changePassword(t.db, user.id, `guess-${i}`, "attacker-password", context)).toBe("wrong_password");
    const answers = await burst(20, (i) => changePassword(t.db, user.id, `parallel-${i}`, "attacker-password", context));
    expect(answers.filter((a) => a === "wrong_password")).toHaveLength(1);
    expect(answers.filter((a) => a === "rate_limited")).toHaveLength(19);
    expect(await changePassword(t.db, user.id, PASSWORD, "attacker-password", context)).toBe("rate_limited");
  });

  it("the admin's Password confirmation: 9 failures + 20 parallel wrong passwords count exactly to 10, the right one is refused, and Change password is limited with it", async () => {
    const admin = await newUser(t.db, { admin: true });
    const session = newSession(admin);
    const context = freshContext("stolen admin session");
    for (let i = 0; i < 9; i++) expect(await confirmAdmin(t.db, session, `guess-${i}`, context)).toBe("invalid");
    const answers = await burst(20, (i) => confirmAdmin(t.db, session, `parallel-${i}`, context));
    expect(answers.filter((a) => a === "invalid")).toHaveLength(1);
    expect(answers.filter((a) => a === "locked_out")).toHaveLength(19);
    expect(await confirmAdmin(t.db, session, PASSWORD, context)).toBe("locked_out");
    // One limiter for "a signed-in session guessing its own password": the other door is shut too.
    expect(await changePassword(t.db, admin.id, PASSWORD, "attacker-password", context)).toBe("rate_limited");
  });
});
