import { eq, sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { instanceSettings, users } from "@/db/schema";
import { passwordStep } from "@/lib/auth/sign-in";
import { sha256Hex } from "@/lib/crypto";
import { getSettings } from "@/lib/settings";
import { completeSetup, isSetupPending, issueSetupToken } from "@/lib/setup";
import { countUsers, findUserByEmail } from "@/lib/users";
import { testDrivers, useTestDatabase } from "./support/databases";
import { CONTEXT, eventNamesAbout, newUser, rawRows } from "./support/fixtures";

const ADMIN = { name: "First Admin", email: "admin@example.test", password: "a long enough password" };

/** First run: the one-time token printed in the server log creates the first administrator. */
describe.each(testDrivers())("first-run setup on %s", (driver) => {
  const t = useTestDatabase(driver);

  // Every test starts from a brand-new instance: no users, no settings row, no events.
  beforeEach(async () => {
    await t.db.execute(sql`truncate table users, instance_settings, audit_events, rate_limits restart identity cascade`);
  });

  const auditCount = async () => (await rawRows<{ n: number }>(t.db, sql`select count(*)::int as n from audit_events`))[0].n;

  it("issues a token on an instance without users, storing only its SHA-256", async () => {
    const token = await issueSetupToken(t.db);
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await getSettings(t.db)).setupTokenHash).toBe(sha256Hex(token!));
    expect(await isSetupPending(t.db, token!)).toBe(true);
  });

  it("creates the first administrator with the right token, consuming it, and audits it", async () => {
    const token = (await issueSetupToken(t.db))!;
    expect(await completeSetup(t.db, token, ADMIN, CONTEXT)).toBe("ok");
    const admin = await findUserByEmail(t.db, ADMIN.email);
    expect(admin).toMatchObject({ name: ADMIN.name, role: "admin" });
    expect(admin!.passwordHash).not.toContain(ADMIN.password);
    expect((await getSettings(t.db)).setupTokenHash).toBeNull();
    expect(await eventNamesAbout(t.db, admin!.id)).toEqual(["user.created", "setup.completed"]);
    expect(await passwordStep(t.db, { email: ADMIN.email, password: ADMIN.password }, CONTEXT)).toMatchObject({ ok: true });
  });

  it.each([
    ["a wrong token", "not-the-token"],
    ["an empty token", ""],
    ["the token's stored hash", "HASH"],
    ["an over-long token", "t".repeat(201)],
  ])("creates nothing with %s", async (_what, attempt) => {
    const token = (await issueSetupToken(t.db))!;
    const guess = attempt === "HASH" ? sha256Hex(token) : attempt;
    expect(await completeSetup(t.db, guess, ADMIN, CONTEXT)).toBe("invalid_token");
    expect(await countUsers(t.db)).toBe(0);
    expect(await auditCount()).toBe(0);
    expect(await isSetupPending(t.db, token)).toBe(true); // the real token still works
  });

  it("refuses a used token: the link cannot create a second administrator", async () => {
    const token = (await issueSetupToken(t.db))!;
    expect(await completeSetup(t.db, token, ADMIN, CONTEXT)).toBe("ok");
    expect(await completeSetup(t.db, token, { ...ADMIN, email: "second@example.test" }, CONTEXT)).toBe("invalid_token");
    expect(await isSetupPending(t.db, token)).toBe(false);
    expect(await countUsers(t.db)).toBe(1);
  });

  it("refuses a token once any user exists, even if it was never used", async () => {
    const token = (await issueSetupToken(t.db))!;
    await newUser(t.db); // e.g. created from the CLI meanwhile
    expect(await completeSetup(t.db, token, ADMIN, CONTEXT)).toBe("invalid_token");
    expect(await findUserByEmail(t.db, ADMIN.email)).toBeNull();
  });

  it("issues no token once users exist", async () => {
    await newUser(t.db);
    expect(await issueSetupToken(t.db)).toBeNull();
  });

  it("makes only the latest printed token work after a restart", async () => {
    const first = (await issueSetupToken(t.db))!;
    const second = (await issueSetupToken(t.db))!;
    expect(second).not.toBe(first);
    expect(await completeSetup(t.db, first, ADMIN, CONTEXT)).toBe("invalid_token");
    expect(await completeSetup(t.db, second, ADMIN, CONTEXT)).toBe("ok");
  });

  it("creates exactly one administrator when the same token is submitted several times at once", async () => {
    const token = (await issueSetupToken(t.db))!;
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => completeSetup(t.db, token, { ...ADMIN, email: `admin${i}@example.test` }, CONTEXT)),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r === "invalid_token")).toHaveLength(4);
    expect(await countUsers(t.db)).toBe(1);
    const [admin] = await t.db.select().from(users);
    expect(admin.role).toBe("admin");
  });

  it("answers isSetupPending false for anything but the current token", async () => {
    const token = (await issueSetupToken(t.db))!;
    expect(await isSetupPending(t.db, `${token}x`)).toBe(false);
    expect(await isSetupPending(t.db, "")).toBe(false);
    await t.db.update(instanceSettings).set({ setupTokenHash: null }).where(eq(instanceSettings.id, 1));
    expect(await isSetupPending(t.db, token)).toBe(false);
  });
});
