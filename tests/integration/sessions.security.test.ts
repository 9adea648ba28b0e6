import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { JWT } from "next-auth/jwt";
import { afterEach, describe, expect, it } from "vitest";
import { sessions } from "@/db/schema";
import { changePassword } from "@/lib/account/password";
import { countActiveSessions, listActiveSessions, signOutEverywhere, signOutSession } from "@/lib/account/sessions";
import { getUserProperties } from "@/lib/admin/user-properties";
import { sessionGrant } from "@/lib/auth/session-grant";
import { deleteSession, refreshSession } from "@/lib/auth/session-records";
import { testDrivers, useTestDatabase } from "./support/databases";
import { CONTEXT, eventNamesAbout, newUser, nowSeconds, PASSWORD, userRow, issueSession, type TestUser } from "./support/fixtures";

describe.each(testDrivers())("sessions on %s", (driver) => {
  const t = useTestDatabase(driver);
  afterEach(() => {
    delete process.env.SESSION_IDLE_MINUTES;
  });

  const signIn = (user: TestUser): Promise<JWT> => issueSession(t.db, user);
  const lastActive = async (token: JWT) => (await t.db.select().from(sessions).where(eq(sessions.sid, String(token.sid))))[0]?.lastActiveAt.getTime();
  const setLastActive = (token: JWT, ago: string) =>
    t.db.update(sessions).set({ lastActiveAt: sql`now() - ${ago}::interval` }).where(eq(sessions.sid, String(token.sid)));

  it("a session left idle past the limit is refused; one active within it is not", async () => {
    const user = await newUser(t.db);
    const idle = await signIn(user);
    const active = await signIn(user);
    await setLastActive(idle, "61 minutes");
    await setLastActive(active, "59 minutes");
    expect(await refreshSession(t.db, idle)).toBeNull();
    expect(await refreshSession(t.db, active)).toMatchObject({ sub: user.id, sid: active.sid });
    // The request just made counts as activity: the session has a full hour again.
    expect(Date.now() - (await lastActive(active))!).toBeLessThan(60_000);
  });

  it("a session idle past SESSION_IDLE_MINUTES is refused when an operator shortens the limit", async () => {
    process.env.SESSION_IDLE_MINUTES = "15";
    const user = await newUser(t.db);
    const token = await signIn(user);
    await setLastActive(token, "16 minutes");
    expect(await refreshSession(t.db, token)).toBeNull();
  });

  it("last active is not rewritten on every request: once a minute at most, once for a burst", async () => {
    const user = await newUser(t.db);
    const token = await signIn(user);
    await setLastActive(token, "30 seconds");
    const before = await lastActive(token);
    for (let i = 0; i < 5; i++) expect(await refreshSession(t.db, token)).not.toBeNull();
    expect(await lastActive(token)).toBe(before);

    // Every write of last_active_at is logged, to count what a burst of parallel requests writes.
    await t.db.execute(sql`create table touches (sid text not null)`);
    await t.db.execute(sql.raw(`create function log_touch() returns trigger language plpgsql as $$ begin insert into touches values (new.sid); return new; end $$`));
    await t.db.execute(sql`create trigger log_touch after update of last_active_at on sessions for each row execute function log_touch()`);
    await setLastActive(token, "2 minutes");
    await t.db.execute(sql`delete from touches`);
    await Promise.all(Array.from({ length: 10 }, () => refreshSession(t.db, token)));
    const [{ writes }] = await t.db.select({ writes: sql<number>`(select count(*)::int from touches)` }).from(sessions).where(eq(sessions.sid, String(token.sid)));
    expect(writes).toBe(1);
    const touched = await lastActive(token);
    expect(Date.now() - touched!).toBeLessThan(60_000);
    await refreshSession(t.db, token);
    expect(await lastActive(token)).toBe(touched);
  });

  it("a forger holding the key cannot stretch a session past its 12 hours: the row's expiry counts", async () => {
    const user = await newUser(t.db);
    const token = await signIn(user);
    await t.db.update(sessions).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(sessions.sid, String(token.sid)));
    expect(await refreshSession(t.db, { ...token, authTime: nowSeconds() })).toBeNull();
  });

  it("a session without a row (signed out, or issued before session rows existed) is refused", async () => {
    const user = await newUser(t.db);
    const { sessionVersion } = await userRow(t.db, user.id);
    expect(await refreshSession(t.db, { sub: user.id, sid: randomUUID(), sv: sessionVersion, authTime: nowSeconds() })).toBeNull();
    const token = await signIn(user);
    await deleteSession(t.db, String(token.sid), user.id);
    expect(await refreshSession(t.db, token)).toBeNull();
  });

  it("Sign out of one session ends that one only, with an audit entry", async () => {
    const user = await newUser(t.db);
    const [a, b] = [await signIn(user), await signIn(user)];
    expect(await signOutSession(t.db, user.id, String(a.sid), CONTEXT)).toBe(true);
    expect(await refreshSession(t.db, a)).toBeNull();
    expect(await refreshSession(t.db, b)).toMatchObject({ sid: b.sid });
    expect((await listActiveSessions(t.db, user.id)).map((s) => s.sid)).toEqual([b.sid]);
    expect(await eventNamesAbout(t.db, user.id)).toContain("session.ended");
    // Twice (two tabs): nothing more ends, nothing more is recorded.
    expect(await signOutSession(t.db, user.id, String(a.sid), CONTEXT)).toBe(false);
  });

  it("another user's session id, sent to Sign out, changes nothing", async () => {
    const [alice, mallory] = [await newUser(t.db), await newUser(t.db)];
    const victim = await signIn(alice);
    await signIn(mallory);
    const attempts = await Promise.all(Array.from({ length: 5 }, () => signOutSession(t.db, mallory.id, String(victim.sid), CONTEXT)));
    expect(attempts).toEqual([false, false, false, false, false]);
    expect(await refreshSession(t.db, victim)).toMatchObject({ sub: alice.id, sid: victim.sid });
    expect((await listActiveSessions(t.db, mallory.id)).map((s) => s.sid)).not.toContain(victim.sid);
    expect(await eventNamesAbout(t.db, alice.id)).not.toContain("session.ended");
    expect(await eventNamesAbout(t.db, mallory.id)).not.toContain("session.ended");
  });

  it("a grant for session A does not re-issue session B (a copied cookie of another session stays ended)", async () => {
    const user = await newUser(t.db);
    const [a, b] = [await signIn(user), await signIn(user)];
    const changed = await changePassword(t.db, user.id, PASSWORD, "a new long password", CONTEXT);
    if (typeof changed === "string") throw new Error(changed);
    const grantForA = sessionGrant(user.id, String(a.sid), changed.sessionVersion);
    expect(await refreshSession(t.db, b, grantForA)).toBeNull();
    expect(await refreshSession(t.db, a, grantForA)).toMatchObject({ sid: a.sid, sv: changed.sessionVersion });
    expect((await listActiveSessions(t.db, user.id)).map((s) => s.sid)).toEqual([a.sid]);
  });

  it("a grant for version n does not revive a session after a later bump to n + 1", async () => {
    const user = await newUser(t.db);
    const a = await signIn(user);
    const changed = await changePassword(t.db, user.id, PASSWORD, "a new long password", CONTEXT);
    if (typeof changed === "string") throw new Error(changed);
    await signOutEverywhere(t.db, user.id, CONTEXT); // e.g. from another tab, before this one's re-issue
    expect((await userRow(t.db, user.id)).sessionVersion).toBe(changed.sessionVersion + 1);
    expect(await refreshSession(t.db, a, sessionGrant(user.id, String(a.sid), changed.sessionVersion))).toBeNull();
  });

  it("lists and counts only the user's active sessions: not idle, ended, expired or of an older version", async () => {
    const [user, other] = [await newUser(t.db), await newUser(t.db)];
    const ended = await signIn(user);
    await signOutEverywhere(t.db, user.id, CONTEXT);
    const [idle, first, second] = [await signIn(user), await signIn(user), await signIn(user)];
    await signIn(other);
    await setLastActive(idle, "2 hours");
    await setLastActive(first, "10 minutes");
    const listed = await listActiveSessions(t.db, user.id);
    expect(listed.map((s) => s.sid)).toEqual([second.sid, first.sid]);
    expect(listed[0]).toMatchObject({ ip: CONTEXT.ip, userAgent: CONTEXT.userAgent });
    expect(listed.map((s) => s.sid)).not.toContain(ended.sid);
    expect(await countActiveSessions(t.db, user.id)).toBe(2);
    expect(await getUserProperties(t.db, user.id)).toMatchObject({ activeSessions: 2 });
  });
});
