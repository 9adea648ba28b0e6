import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { asc, eq, sql, type SQL } from "drizzle-orm";
import { generateSync } from "otplib";
import type { JWT } from "next-auth/jwt";
import { expect } from "vitest";
import type { Database } from "@/db";
import { auditEvents, totpCredentials, users } from "@/db/schema";
import type { RequestContext } from "@/lib/audit";
import { confirmAdmin, type AdminSession } from "@/lib/admin/step-up";
import { recordSession } from "@/lib/auth/session-records";
import { passwordStep } from "@/lib/auth/sign-in";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { TOTP_PERIOD_SECONDS } from "@/lib/two-factor/totp";
import { createUser } from "@/lib/users";

export const CONTEXT: RequestContext = { ip: "203.0.113.7", userAgent: "vitest" };
export const PASSWORD = "correct horse battery staple";

export type TestUser = { id: string; name: string; email: string; password: string };
export type EnrolledUser = TestUser & { secret: string; recoveryCodes: string[] };

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function currentStep(): number {
  return Math.floor(nowSeconds() / TOTP_PERIOD_SECONDS);
}

/** The code an authenticator app shows now, or `stepOffset` steps away. */
export function codeAt(secret: string, stepOffset = 0): string {
  return generateSync({ secret, epoch: nowSeconds() + stepOffset * TOTP_PERIOD_SECONDS });
}

/** A well-formed code that no nearby time step produces: a guess that must fail. */
export function wrongCode(secret: string): string {
  const near = new Set([-3, -2, -1, 0, 1, 2, 3].map((offset) => codeAt(secret, offset)));
  for (;;) {
    const guess = String(randomInt(1_000_000)).padStart(6, "0");
    if (!near.has(guess)) return guess;
  }
}

/** A user made the way the app makes them (argon2id hash, audit entry). */
export async function newUser(db: Database, options: { admin?: boolean } = {}): Promise<TestUser> {
  const tag = randomBytes(6).toString("hex");
  const input = { name: `User ${tag}`, email: `user-${tag}@example.test`, password: PASSWORD, admin: !!options.admin };
  const created = await createUser(db, input, null, CONTEXT);
  if (!created.ok) throw new Error(`createUser failed: ${created.error}`);
  return { id: created.id, name: input.name, email: input.email, password: PASSWORD };
}

/** A new session of `admin`, as a sign-in opens one (a fresh session id), that has not confirmed anything. */
export function newSession(admin: { id: string }): AdminSession {
  return { id: admin.id, sessionId: randomUUID() };
}

/** A new session of an admin without 2FA that has just confirmed with the password. */
export async function confirmedSession(db: Database, admin: { id: string }): Promise<AdminSession> {
  const session = newSession(admin);
  const verdict = await confirmAdmin(db, session, PASSWORD, CONTEXT);
  if (verdict !== "ok") throw new Error(`confirmAdmin failed: ${verdict}`);
  return session;
}

/**
 * A user who enrolled TOTP through startEnrollment/confirmEnrollment. The
 * enrollment code's step is then moved back two steps, as if enrollment had
 * happened a minute ago, so the test may use the current code once.
 */
export async function enrolledUser(db: Database): Promise<EnrolledUser> {
  const user = await newUser(db);
  const started = await startEnrollment(db, user);
  if (!started.ok) throw new Error(`startEnrollment failed: ${started.error}`);
  const confirmed = await confirmEnrollment(db, user.id, codeAt(started.secret), CONTEXT);
  if (!confirmed.ok) throw new Error(`confirmEnrollment failed: ${confirmed.error}`);
  await rewindLastUsedStep(db, user.id);
  return { ...user, secret: started.secret, recoveryCodes: confirmed.recoveryCodes };
}

/** Time passed since the last accepted code: the current code may be used once more. */
export async function rewindLastUsedStep(db: Database, userId: string): Promise<void> {
  await db
    .update(totpCredentials)
    .set({ lastUsedStep: currentStep() - 2 })
    .where(eq(totpCredentials.userId, userId));
}

/** Runs the password step with the right password and returns the challenge token. */
export async function openChallenge(db: Database, user: TestUser): Promise<string> {
  const result = await passwordStep(db, { email: user.email, password: user.password }, CONTEXT);
  if (!result.ok) throw new Error("the password step failed for a test user");
  return result.challenge;
}

export async function openChallenges(db: Database, user: TestUser, count: number): Promise<string[]> {
  const challenges: string[] = [];
  for (let i = 0; i < count; i++) challenges.push(await openChallenge(db, user));
  return challenges;
}

/** What authorize() and the jwt callback do at sign-in: the session's row, then the token that names it. */
export async function issueSession(db: Database, user: TestUser): Promise<JWT> {
  const sid = randomUUID();
  const { sessionVersion } = await userRow(db, user.id);
  await recordSession(db, { sid, userId: user.id, sessionVersion }, CONTEXT);
  return { sub: user.id, sid, sv: sessionVersion, authTime: nowSeconds() };
}

export async function userRow(db: Database, id: string) {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row;
}

export async function totpRow(db: Database, userId: string) {
  const [row] = await db.select().from(totpCredentials).where(eq(totpCredentials.userId, userId));
  return row ?? null;
}

/** The audit trail about one user, oldest first. */
export async function eventsAbout(db: Database, userId: string) {
  return db
    .select({ event: auditEvents.event, actorUserId: auditEvents.actorUserId, ip: auditEvents.ip, details: auditEvents.details })
    .from(auditEvents)
    .where(eq(auditEvents.targetUserId, userId))
    .orderBy(asc(auditEvents.id));
}

export async function eventNamesAbout(db: Database, userId: string): Promise<string[]> {
  return (await eventsAbout(db, userId)).map((e) => e.event);
}

/** Rows of a raw query on either driver (PGlite answers `{ rows }`, postgres.js an array). */
export async function rawRows<T>(db: Database, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** The database clock, for assertions on timestamps it wrote. */
export async function databaseNow(db: Database): Promise<Date> {
  const [row] = await rawRows<{ now: string | Date }>(db, sql`select now() as now`);
  return new Date(row.now);
}

export function expectWithin(actual: Date | null, expected: Date, toleranceMs: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual!.getTime() - expected.getTime())).toBeLessThanOrEqual(toleranceMs);
}
