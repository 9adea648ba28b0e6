import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { recoveryCodes, securityKeys, sessions, signInChallenges, trustedBrowsers, users } from "@/db/schema";
import { removeUserSecurityKeys } from "@/lib/admin/remove-user-keys";
import { confirmAdmin, type AdminSession } from "@/lib/admin/step-up";
import { getUserProperties, isSensitiveChange, updateUserProperties } from "@/lib/admin/user-properties";
import { completeSignIn } from "@/lib/auth/second-step";
import { passwordStep } from "@/lib/auth/sign-in";
import { SUBJECTS } from "@/lib/notifications/messages";
import { finishKeyRegistration, startKeyRegistration } from "@/lib/security-keys/registration";
import { startKeySignIn } from "@/lib/security-keys/sign-in";
import { countEnrolledUsers, searchUsers } from "@/lib/users";
import type { UserFilter } from "@/lib/validation/user-search";
import { MESSAGES } from "@/lib/validation/messages";
import { removeUserSecurityKeysAction, type KeyRemovalState } from "@/app/(app)/admin/users/user-actions";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink";
import { testDrivers, useTestDatabase } from "./support/databases";
import {
  codeAt,
  confirmedSession,
  CONTEXT,
  enrolledUser,
  eventNamesAbout,
  eventsAbout,
  newSession,
  newUser,
  openChallenge,
  rewindLastUsedStep,
  type TestUser,
  userRow,
} from "./support/fixtures";
import { captureQueries, planWithout } from "./support/query-plans";
import { runAsTestRelyingParty, softwareKey } from "./support/software-key";

/**
 * Administration → Users → User properties: an administrator removes a
 * user's security keys (lib/admin/remove-user-keys.ts and its server
 * action), the Users filter "Security key", and removal of keys with 2FA.
 *
 * The server action runs for real on the real database; only what a Next
 * request would provide is stood in for: the session (`caller`, as
 * adminSessionOrNull would answer it: null for anyone but an admin), the
 * request's IP and browser, and revalidatePath.
 */
const caller = vi.hoisted(() => ({ current: null as (AdminSession & { name: string; email: string; role: "admin" }) | null }));
vi.mock("@/lib/auth/session", () => ({
  adminSessionOrNull: async () => caller.current,
  adminOrNull: async () => caller.current,
}));
vi.mock("@/lib/request-context", () => ({ requestContext: async () => ({ ip: "203.0.113.7", userAgent: "vitest" }) }));
vi.mock("next/cache", () => ({ revalidatePath: () => {} }));

runAsTestRelyingParty();

let sink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpSink();
});
afterAll(() => sink.stop());
beforeEach(() => {
  process.env.SMTP_URL = sink.url;
});
afterEach(() => {
  delete process.env.SMTP_URL;
  caller.current = null;
});

const IDLE: KeyRemovalState = { status: "idle" };
const form = (fields: Record<string, string | Blob>) => {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.set(name, value);
  return data;
};

describe.each(testDrivers())("an administrator and a user's security keys on %s", (driver) => {
  const t = useTestDatabase(driver);

  /** A key row as registration stores one (the public key is never read here). */
  async function insertKey(user: { id: string }, name: string, synced = false): Promise<string> {
    const [row] = await t.db
      .insert(securityKeys)
      .values({
        userId: user.id,
        credentialId: randomBytes(16).toString("base64url"),
        publicKey: "not-read-by-these-tests",
        deviceType: synced ? "multiDevice" : "singleDevice",
        backedUp: synced,
        userVerified: true,
        aaguid: "00000000-0000-0000-0000-000000000000",
        name,
      })
      .returning({ id: securityKeys.id });
    return row.id;
  }

  /**
   * A key registered the way My Settings does it (the owner's session confirmed with a current code, or
   * the password without 2FA; the browser's answer). A user's first factor turns 2FA on with recovery codes.
   */
  async function registerKey(user: TestUser & { secret?: string }, name: string) {
    const session = newSession(user);
    await t.db.insert(sessions).values({ sid: session.sessionId, userId: user.id, sessionVersion: 0, expiresAt: sql`now() + interval '1 hour'` });
    expect(await confirmAdmin(t.db, session, user.secret ? codeAt(user.secret) : user.password, CONTEXT)).toBe("ok");
    if (user.secret) await rewindLastUsedStep(t.db, user.id);
    const started = await startKeyRegistration(t.db, session);
    if (!started.ok) throw new Error(started.error);
    const key = softwareKey();
    const finished = await finishKeyRegistration(t.db, session, key.register(started.options), name, CONTEXT);
    if (!finished.ok) throw new Error(finished.error);
    return { key, id: finished.id };
  }

  const keyNames = async (user: { id: string }) =>
    (await t.db.select({ name: securityKeys.name }).from(securityKeys).where(eq(securityKeys.userId, user.id))).map((k) => k.name).sort();
  const pendingSignIns = (user: { id: string }) => t.db.select().from(signInChallenges).where(eq(signInChallenges.userId, user.id));
  const removalEvents = async (user: { id: string }) => (await eventsAbout(t.db, user.id)).filter((e) => e.event === "security_key.removed");
  const removalMails = (user: TestUser) => sink.messages.filter((m) => m.rcptTo.includes(user.email) && m.subject === SUBJECTS.security_key_removed);
  const actAs = (admin: TestUser, session: AdminSession) => {
    caller.current = { ...session, name: admin.name, email: admin.email, role: "admin" };
  };

  it("an administrator removes one key: it no longer signs in, the user's pending sign-in ends, audited as the admin's, the owner is mailed", async () => {
    const admin = await newUser(t.db, { admin: true });
    const session = await confirmedSession(t.db, admin);
    const user = await enrolledUser(t.db);
    const { id } = await registerKey(user, "Desk key");
    await insertKey(user, "Phone", true);
    const pending = await openChallenge(t.db, user);

    expect(await removeUserSecurityKeys(t.db, session, user.id, { keyId: id }, CONTEXT)).toEqual({ ok: true, removed: 1, twoFactorOff: false });

    expect(await keyNames(user)).toEqual(["Phone"]);
    expect(await pendingSignIns(user)).toEqual([]);
    const finish = await completeSignIn(t.db, { challenge: pending, method: "totp", code: codeAt(user.secret) }, CONTEXT);
    expect(finish).toMatchObject({ ok: false, error: "challenge_expired" });
    expect(await removalEvents(user)).toEqual([{ event: "security_key.removed", actorUserId: admin.id, ip: CONTEXT.ip, details: { name: "Desk key", by: "admin" } }]);
    const [mail, ...more] = await sink.waitFor(1, (m) => m.rcptTo.includes(user.email) && m.subject === SUBJECTS.security_key_removed);
    expect(more).toEqual([]);
    expect(mail.text).toContain(`The administrator ${admin.name} removed the security key named "Desk key" from your account.`);
    expect(mail.text).toMatch(/^If it was not you: contact your administrator/m);
  });

  it("the removed key no longer signs in; the one left does", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await enrolledUser(t.db);
    const removed = await registerKey(user, "Old key");
    const kept = await registerKey(user, "New key");
    await removeUserSecurityKeys(t.db, await confirmedSession(t.db, admin), user.id, { keyId: removed.id }, CONTEXT);
    const signInWith = async (key: typeof removed.key) => {
      const challenge = await openChallenge(t.db, user);
      const started = await startKeySignIn(t.db, challenge);
      if (!started.ok) throw new Error(started.error);
      return completeSignIn(t.db, { challenge, method: "security_key", code: "", assertion: key.assert(started.options) }, CONTEXT);
    };
    expect((await signInWith(removed.key)).ok).toBe(false);
    expect((await signInWith(kept.key)).ok).toBe(true);
  });

  it("Remove all removes every key of this user, one audit entry and one mail each; another user's keys stay", async () => {
    const admin = await newUser(t.db, { admin: true });
    const [user, other] = [await enrolledUser(t.db), await enrolledUser(t.db)];
    await insertKey(user, "YubiKey 5");
    await insertKey(user, "Laptop", true);
    await insertKey(other, "Other's key");

    expect(await removeUserSecurityKeys(t.db, await confirmedSession(t.db, admin), user.id, "all", CONTEXT)).toEqual({ ok: true, removed: 2, twoFactorOff: false });

    expect(await keyNames(user)).toEqual([]);
    expect(await keyNames(other)).toEqual(["Other's key"]);
    const events = (await removalEvents(user)).map((e) => ({ actorUserId: e.actorUserId, ...(e.details as { name: string }) }));
    expect(events.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { actorUserId: admin.id, name: "Laptop", by: "admin" },
      { actorUserId: admin.id, name: "YubiKey 5", by: "admin" },
    ]);
    const mails = await sink.waitFor(2, (m) => m.rcptTo.includes(user.email) && m.subject === SUBJECTS.security_key_removed);
    expect(mails.map((m) => /named "([^"]+)"/.exec(m.text)?.[1]).sort()).toEqual(["Laptop", "YubiKey 5"]);
    expect(removalMails(other)).toEqual([]);
  });

  it("a browser trusted with a lost key does not stay trusted once the admin removes the key: every trusted browser of the user ends", async () => {
    const admin = await newUser(t.db, { admin: true });
    const [user, other] = [await enrolledUser(t.db), await enrolledUser(t.db)];
    const id = await insertKey(user, "Lost key");
    await insertKey(user, "Spare key");
    const trusted = (who: { id: string }) => ({ userId: who.id, tokenHash: randomBytes(32).toString("hex"), description: "Chrome on Linux", expiresAt: sql`now() + interval '30 days'` });
    await t.db.insert(trustedBrowsers).values([trusted(user), trusted(user), trusted(other)]);

    await removeUserSecurityKeys(t.db, await confirmedSession(t.db, admin), user.id, { keyId: id }, CONTEXT);

    expect(await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, user.id))).toEqual([]);
    expect(await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, other.id))).toHaveLength(1);
    const ended = (await eventsAbout(t.db, user.id)).filter((e) => e.event === "trusted_browser.removed");
    expect(ended).toEqual([expect.objectContaining({ actorUserId: admin.id, details: { count: 2, reason: "security_key_removed" } })]);
  });

  it("the last factor: removing the only key of a user without an authenticator app removes their 2FA (recovery codes, sessions), audited as the admin's and mailed", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await newUser(t.db);
    await registerKey(user, "Only key");
    const before = await userRow(t.db, user.id);
    expect(await getUserProperties(t.db, user.id)).toMatchObject({ twoFactorEnabled: true, totp: false, securityKeys: [{ name: "Only key" }] });
    expect(await t.db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, user.id))).toHaveLength(10);
    const session = await confirmedSession(t.db, admin);
    actAs(admin, session);

    const answer = await removeUserSecurityKeysAction(user.id, IDLE, form({ keyId: "all" }));

    expect(answer).toMatchObject({
      status: "success",
      message: `${MESSAGES.securityKeyRemoved} ${MESSAGES.userLastFactorRemoved}`,
      user: { twoFactorEnabled: false, totp: false, securityKeys: [] },
    });
    expect(await t.db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, user.id))).toEqual([]);
    expect((await userRow(t.db, user.id)).sessionVersion).toBe(before.sessionVersion + 1);
    const removed = (await eventsAbout(t.db, user.id)).filter((e) => e.event === "two_factor.removed_by_admin");
    expect(removed).toEqual([expect.objectContaining({ actorUserId: admin.id, details: { lastFactor: "security_key" } })]);
    const [mail] = await sink.waitFor(1, (m) => m.rcptTo.includes(user.email) && m.subject === SUBJECTS.two_factor_removed);
    expect(mail.text).toContain("An administrator removed two-factor authentication from your account.");
    // Signing in now takes the password alone, as after unticking 2FA.
    const step = await passwordStep(t.db, { email: user.email, password: user.password }, CONTEXT);
    expect(step).toMatchObject({ ok: true, secondFactorDue: false, enrollmentDue: false });
  });

  it("a stolen admin session without a fresh confirmation cannot strip a user's keys: refused, the key and the pending sign-in stay", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await enrolledUser(t.db);
    await insertKey(user, "YubiKey");
    await openChallenge(t.db, user);
    // A new sign-in is no confirmation, nor is another session's.
    await confirmedSession(t.db, admin);
    const result = await removeUserSecurityKeys(t.db, newSession(admin), user.id, "all", CONTEXT);
    expect(result).toEqual({ ok: false, error: "confirmation_required", method: "password" });
    expect(await keyNames(user)).toEqual(["YubiKey"]);
    expect(await pendingSignIns(user)).toHaveLength(1);
    expect(await removalEvents(user)).toEqual([]);
  });

  it("privilege escalation: a plain user with a fresh confirmation of their own cannot remove another user's keys through the lib function", async () => {
    // My Settings confirms a plain user's session the same way (adding or removing their own key).
    const mallory = await newUser(t.db);
    const session = await confirmedSession(t.db, mallory);
    const victim = await enrolledUser(t.db);
    const id = await insertKey(victim, "YubiKey");
    await openChallenge(t.db, victim);
    expect(await removeUserSecurityKeys(t.db, session, victim.id, { keyId: id }, CONTEXT)).toEqual({ ok: false, error: "not_allowed" });
    expect(await removeUserSecurityKeys(t.db, session, victim.id, "all", CONTEXT)).toEqual({ ok: false, error: "not_allowed" });
    expect(await keyNames(victim)).toEqual(["YubiKey"]);
    expect(await pendingSignIns(victim)).toHaveLength(1);
    expect(await removalEvents(victim)).toEqual([]);
  });

  it("privilege escalation: the action called by a non-admin (no admin session) is refused and changes nothing", async () => {
    const victim = await enrolledUser(t.db);
    const id = await insertKey(victim, "YubiKey");
    caller.current = null;
    for (const keyId of [id, "all"]) {
      expect(await removeUserSecurityKeysAction(victim.id, IDLE, form({ keyId }))).toEqual({ status: "error", message: MESSAGES.notAllowed });
    }
    expect(await keyNames(victim)).toEqual(["YubiKey"]);
  });

  it("cross-user key id: another user's key id sent with this user's id removes nothing and ends no sign-in", async () => {
    const admin = await newUser(t.db, { admin: true });
    const session = await confirmedSession(t.db, admin);
    const [user, other] = [await enrolledUser(t.db), await enrolledUser(t.db)];
    await insertKey(user, "User's key");
    const othersKey = await insertKey(other, "Other's key");
    await openChallenge(t.db, user);
    await openChallenge(t.db, other);

    expect(await removeUserSecurityKeys(t.db, session, user.id, { keyId: othersKey }, CONTEXT)).toEqual({ ok: false, error: "not_found" });
    actAs(admin, session);
    const answer = await removeUserSecurityKeysAction(user.id, IDLE, form({ keyId: othersKey }));
    expect(answer).toMatchObject({ status: "error", message: MESSAGES.securityKeyGone });
    // The answer shows this user's keys only.
    expect(answer).toMatchObject({ user: { id: user.id, securityKeys: [{ name: "User's key", synced: false }] } });

    expect(await keyNames(user)).toEqual(["User's key"]);
    expect(await keyNames(other)).toEqual(["Other's key"]);
    expect(await pendingSignIns(user)).toHaveLength(1);
    expect(await pendingSignIns(other)).toHaveLength(1);
    expect([...(await removalEvents(user)), ...(await removalEvents(other))]).toEqual([]);
  });

  it("the action: asks for the confirmation first, then removes and answers the keys left", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await enrolledUser(t.db);
    const desk = await insertKey(user, "Desk key");
    await insertKey(user, "Phone", true);
    const session = newSession(admin);
    actAs(admin, session);

    expect(await removeUserSecurityKeysAction(user.id, IDLE, form({ keyId: desk }))).toEqual({ status: "confirm", method: "password" });
    expect(await keyNames(user)).toEqual(["Desk key", "Phone"]);

    expect(await confirmAdmin(t.db, session, admin.password, CONTEXT)).toBe("ok");
    expect(await removeUserSecurityKeysAction(user.id, IDLE, form({ keyId: desk }))).toMatchObject({
      status: "success",
      message: MESSAGES.securityKeyRemoved,
      user: { twoFactorEnabled: true, securityKeys: [{ id: expect.any(String), name: "Phone", synced: true }] },
    });
    // The authenticator app is left: 2FA stays on.
    expect(await removeUserSecurityKeysAction(user.id, IDLE, form({ keyId: "all" }))).toMatchObject({
      status: "success",
      message: MESSAGES.securityKeyRemoved,
      user: { twoFactorEnabled: true, totp: true, securityKeys: [] },
    });
    expect(await keyNames(user)).toEqual([]);
  });

  it("malformed input: bad user ids and key ids get a message, never an exception, and change nothing", async () => {
    const admin = await newUser(t.db, { admin: true });
    const session = await confirmedSession(t.db, admin);
    actAs(admin, session);
    const user = await enrolledUser(t.db);
    const id = await insertKey(user, "YubiKey");
    const invalid = { status: "error", message: MESSAGES.invalidRequest };
    for (const userId of ["", "not-a-uuid", `${user.id}'--`, "x".repeat(100_000), 42, null, { id: user.id }] as unknown[]) {
      expect(await removeUserSecurityKeysAction(userId as string, IDLE, form({ keyId: id })), String(userId).slice(0, 40)).toEqual(invalid);
    }
    for (const keyId of ["", "ALL", "all ", "*", `${id}\u0000`, id.toUpperCase().replace(/-/g, ""), "x".repeat(100_000)]) {
      expect(await removeUserSecurityKeysAction(user.id, IDLE, form({ keyId })), keyId.slice(0, 40)).toEqual(invalid);
    }
    expect(await removeUserSecurityKeysAction(user.id, IDLE, form({}))).toEqual(invalid);
    expect(await removeUserSecurityKeysAction(user.id, IDLE, form({ keyId: new Blob([id]) }))).toEqual(invalid);
    expect(await removeUserSecurityKeysAction(user.id, IDLE, { keyId: id } as unknown as FormData)).toEqual(invalid);
    expect(await keyNames(user)).toEqual(["YubiKey"]);
    expect(await removalEvents(user)).toEqual([]);
  });

  it("a user whose only factor is a key has 2FA on in User properties; unticking removes the key with it", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await newUser(t.db);
    await registerKey(user, "Only key");
    const current = (await getUserProperties(t.db, user.id))!;
    expect(current).toMatchObject({ twoFactorEnabled: true, totp: false });
    const input = { name: user.name, email: user.email, admin: false, twoFactorEnabled: false };
    expect(isSensitiveChange(current, input)).toBe(true);
    expect(await updateUserProperties(t.db, newSession(admin), user.id, input, CONTEXT)).toMatchObject({ ok: false, error: "confirmation_required" });
    expect(await keyNames(user)).toEqual(["Only key"]);
    expect(await updateUserProperties(t.db, await confirmedSession(t.db, admin), user.id, input, CONTEXT)).toEqual({ ok: true });
    expect(await keyNames(user)).toEqual([]);
    expect(await getUserProperties(t.db, user.id)).toMatchObject({ twoFactorEnabled: false, securityKeys: [] });
    expect(await eventNamesAbout(t.db, user.id)).toContain("two_factor.removed_by_admin");
  });

  it("User properties lists the keys (synced or this device only); unticking 2FA removes them with it", async () => {
    const admin = await newUser(t.db, { admin: true });
    const user = await enrolledUser(t.db);
    await insertKey(user, "YubiKey 5");
    await insertKey(user, "Phone", true);
    const properties = await getUserProperties(t.db, user.id);
    expect(properties?.securityKeys).toEqual([
      { id: expect.any(String), name: "YubiKey 5", synced: false },
      { id: expect.any(String), name: "Phone", synced: true },
    ]);
    const input = { name: user.name, email: user.email, admin: false, twoFactorEnabled: false };
    expect(await updateUserProperties(t.db, await confirmedSession(t.db, admin), user.id, input, CONTEXT)).toEqual({ ok: true });
    expect(await keyNames(user)).toEqual([]);
    expect((await getUserProperties(t.db, user.id))?.securityKeys).toEqual([]);
    const [mail] = await sink.waitFor(1, (m) => m.rcptTo.includes(user.email) && m.subject === SUBJECTS.two_factor_removed);
    expect(mail.text).toContain("your security keys");
  });

  describe("the Users filter \"Security key\"", () => {
    const tag = randomBytes(4).toString("hex");
    const people: Record<string, TestUser> = {};
    beforeAll(async () => {
      // Names of their own, so that a search isolates them from the other tests' users.
      for (const who of ["one", "two", "none", "totp"]) {
        const user = who === "totp" ? await enrolledUser(t.db) : await newUser(t.db);
        people[who] = user;
        await t.db.execute(sql`update users set name = ${`Filter ${tag} ${who}`} where id = ${user.id}`);
      }
      await insertKey(people.one, "Only key");
      await insertKey(people.two, "First");
      await insertKey(people.two, "Second", true);
      // Most users have no key, as on a real instance: the plan below is then the one 100 000 users get.
      const filler = Array.from({ length: 500 }, (_, i) => ({ name: `Keyless ${tag} ${i}`, email: `keyless-${tag}-${i}@example.test`, passwordHash: "not-a-hash" }));
      await t.db.insert(users).values(filler);
      await t.db.execute(sql`analyze`);
    });

    it("returns exactly the users with at least one key, with how many each has", async () => {
      const result = await searchUsers(t.db, { query: `filter ${tag}`, page: 1, filter: "key" });
      expect(result.rows.map((r) => [r.email, r.securityKeys])).toEqual([
        [people.one.email, 1],
        [people.two.email, 2],
      ]);
      expect(result).toMatchObject({ total: 2, capped: false, pageCount: 1 });
      // In name order: none, one, totp, two.
      const everyone = await searchUsers(t.db, { query: `filter ${tag}`, page: 1, filter: "all" });
      expect(everyone.rows.map((r) => [r.email, r.securityKeys])).toEqual([
        [people.none.email, 0],
        [people.one.email, 1],
        [people.totp.email, 0],
        [people.two.email, 2],
      ]);
    });

    it("without a search, it matches every user with a key in the database, and nobody else", async () => {
      const withKeys = await t.db.selectDistinct({ userId: securityKeys.userId }).from(securityKeys);
      const first = await searchUsers(t.db, { query: "", page: 1, filter: "key" });
      const rows = [...first.rows];
      for (let page = 2; page <= first.pageCount; page++) rows.push(...(await searchUsers(t.db, { query: "", page, filter: "key" })).rows);
      expect(first.total).toBe(withKeys.length);
      expect(rows.map((r) => r.id).sort()).toEqual(withKeys.map((k) => k.userId).sort());
      expect(rows.every((r) => r.securityKeys > 0)).toBe(true);
    });

    it("a key alone is 2FA on: such a user is under Two-factor on, not off, shows Enabled, and is counted once", async () => {
      const keyOnly = await newUser(t.db);
      await t.db.execute(sql`update users set name = ${`Filter ${tag} keyonly`} where id = ${keyOnly.id}`);
      const enrolledBefore = await countEnrolledUsers(t.db);
      await insertKey(keyOnly, "Only key");
      await insertKey(keyOnly, "Spare key");
      // One more key for a user who has the app too: still one user with 2FA.
      await insertKey(people.totp, "Beside the app");
      expect(await countEnrolledUsers(t.db)).toBe(enrolledBefore + 1);
      const emailsOf = async (filter: UserFilter) => (await searchUsers(t.db, { query: `filter ${tag}`, page: 1, filter })).rows.map((r) => r.email);
      expect(await emailsOf("on")).toEqual([keyOnly.email, people.one.email, people.totp.email, people.two.email]);
      expect(await emailsOf("off")).toEqual([people.none.email]);
      expect(await emailsOf("key")).toEqual([keyOnly.email, people.one.email, people.totp.email, people.two.email]);
      const [row] = (await searchUsers(t.db, { query: `filter ${tag} keyonly`, page: 1, filter: "all" })).rows;
      expect(row).toMatchObject({ twoFactorEnabled: true, securityKeys: 2 });
      // Without a search, "on" is counted from the counter plus the users with keys only: the same total as its rows.
      const on = await searchUsers(t.db, { query: "", page: 1, filter: "on" });
      expect(on.total).toBe(await countEnrolledUsers(t.db));
      await t.db.delete(securityKeys).where(eq(securityKeys.name, "Beside the app"));
    });

    it("reads users through the keys, not the whole users table", async () => {
      const captured = await captureQueries(t, (db) => searchUsers(db, { query: "", page: 1, filter: "key" }));
      expect(captured).toHaveLength(2); // the count, then the page
      for (const query of captured) {
        // Users are reached by id from security_keys_user_idx: the cost follows the keys, not the users.
        const plan = await planWithout(t, query, ["enable_seqscan"]);
        expect(plan, plan).toMatch(/Index Only Scan using security_keys_user_idx on security_keys\b[\s\S]*Index (Only )?Scan using users_pkey on users/);
        expect(plan).not.toMatch(/users_order_idx|Seq Scan on users/);
      }
    });
  });
});
