import { eq, sql } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { instanceSettings, sessions, trustedBrowsers } from "@/db/schema";
import { completeSignIn, type SecondStepResult } from "@/lib/auth/second-step";
import { getSettings } from "@/lib/settings";
import { testDrivers, useTestDatabase } from "./support/databases";
import { CONTEXT, codeAt, enrolledUser, openChallenge, rawRows } from "./support/fixtures";

/**
 * One code sent twice on one challenge, once with "Trust this browser" (the finishing transaction) and once
 * without (the one-statement finish): the two paths must take their row locks in the same order, or PostgreSQL
 * aborts one of them as a deadlock — a 500 for the request, seen by a red team in about one run in two.
 * `afterConsume` runs right after the transaction has consumed (and so locked) the challenge, before it takes
 * the app's row: the plain finish is started there, which is exactly the interleaving that deadlocked.
 */
const seam = vi.hoisted(() => ({ afterConsume: null as null | (() => Promise<unknown>) }));
vi.mock("@/lib/auth/challenge", async (importOriginal) => {
  const original = await importOriginal<typeof import("@/lib/auth/challenge")>();
  const { withSeamAfter } = await import("./support/seams");
  return { ...original, consumeChallenge: withSeamAfter(original.consumeChallenge, seam, "afterConsume") };
});

/** A test that exists on one driver only is not registered on the other (rather than reported as skipped). */
const noTest = (..._args: Parameters<typeof it>) => {};
const threw = (error: Error) => `threw: ${String((error.cause as Error | undefined)?.message ?? error.message)}`;

describe.each(testDrivers())("finishing paths' lock order on %s", (driver) => {
  const t = useTestDatabase(driver);
  beforeEach(async () => {
    seam.afterConsume = null;
    await getSettings(t.db);
    await t.db.update(instanceSettings).set({ trustBrowserEnabled: true }).where(eq(instanceSettings.id, 1));
  });

  const sessionRows = async (userId: string) => (await t.db.select().from(sessions).where(eq(sessions.userId, userId))).length;

  (driver === "postgres" ? it : noTest)("the plain finish of a code starts while the trusting finish of the same code holds the challenge: no deadlock, one session", async () => {
    const owner = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, owner);
    const code = codeAt(owner.secret);
    let plain: Promise<SecondStepResult | string> | undefined;
    let waited = false;
    seam.afterConsume = async () => {
      plain = completeSignIn(t.db, { challenge, method: "totp", code }, CONTEXT).catch(threw);
      // Until the plain finish waits for a row this transaction holds.
      for (let i = 0; i < 200 && !waited; i++) {
        const [row] = await rawRows<{ n: number }>(t.db, sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
        waited = Number(row.n) > 0;
        if (!waited) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const trusting = await completeSignIn(t.db, { challenge, method: "totp", code, trust: true }, CONTEXT).catch(threw);
    const other = await plain;
    expect(waited).toBe(true);
    expect(trusting).toMatchObject({ ok: true, trustToken: expect.any(String) });
    expect(other).toEqual({ ok: false, error: "challenge_expired" });
    expect(await sessionRows(owner.id)).toBe(1);
    expect(await t.db.select().from(trustedBrowsers).where(eq(trustedBrowsers.userId, owner.id))).toHaveLength(1);
  });

  it("the same code again without trust, after the trusting finish: refused, still one session", async () => {
    const owner = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, owner);
    const code = codeAt(owner.secret);
    expect(await completeSignIn(t.db, { challenge, method: "totp", code, trust: true }, CONTEXT)).toMatchObject({ ok: true });
    expect(await completeSignIn(t.db, { challenge, method: "totp", code }, CONTEXT)).toEqual({ ok: false, error: "challenge_expired" });
    expect(await sessionRows(owner.id)).toBe(1);
  });
});
