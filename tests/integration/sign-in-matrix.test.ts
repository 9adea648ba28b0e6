import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { instanceSettings } from "@/db/schema";
import { updateUserProperties } from "@/lib/admin/user-properties";
import { completeSignIn } from "@/lib/auth/second-step";
import { passwordStep } from "@/lib/auth/sign-in";
import { getSettings } from "@/lib/settings";
import { testDrivers, useTestDatabase } from "./support/databases";
import { codeAt, confirmedSession, CONTEXT, enrolledUser, newUser, PASSWORD, rewindLastUsedStep, type TestUser } from "./support/fixtures";

type Instance = "on" | "off";
type Override = "none" | "ticked" | "unticked";
type Case = { instance: Instance; override: Override; enrolled: boolean; trusted: boolean; expected: "password only" | "code" | "trusted" | "enroll" };

/** What follows a correct password, for every combination (the product's decision table). */
function expected(instance: Instance, override: Override, enrolled: boolean, trusted: boolean): Case["expected"] {
  if (instance === "off") return "password only";
  const hasTwoFactor = enrolled && override !== "unticked"; // unticking removes it, trust included
  if (hasTwoFactor) return trusted ? "trusted" : "code";
  return override === "ticked" ? "enroll" : "password only";
}

const cases: Case[] = [];
for (const instance of ["on", "off"] as const)
  for (const override of ["none", "ticked", "unticked"] as const)
    for (const enrolled of [true, false])
      for (const trusted of [true, false])
        if (enrolled || !trusted) cases.push({ instance, override, enrolled, trusted, expected: expected(instance, override, enrolled, trusted) });

describe.each(testDrivers())("sign-in decision table on %s", (driver) => {
  const t = useTestDatabase(driver);

  it.each(cases)(
    "instance $instance, admin override $override, enrolled $enrolled, trusted $trusted → $expected",
    async ({ instance, override, enrolled, trusted, expected: outcome }) => {
      await getSettings(t.db);
      await t.db.update(instanceSettings).set({ twoFactorEnabled: true, trustBrowserEnabled: true }).where(eq(instanceSettings.id, 1));
      const admin = await newUser(t.db, { admin: true });
      let user: TestUser = await newUser(t.db);
      let trustToken = "";
      if (enrolled) {
        const enrolledOne = await enrolledUser(t.db);
        user = enrolledOne;
        if (trusted) {
          const step = await passwordStep(t.db, { email: user.email, password: PASSWORD }, CONTEXT);
          if (!step.ok) throw new Error("password step failed");
          const result = await completeSignIn(t.db, { challenge: step.challenge, method: "totp", code: codeAt(enrolledOne.secret), trust: true }, CONTEXT);
          if (!result.ok || !result.trustToken) throw new Error("could not trust the browser");
          trustToken = result.trustToken;
          await rewindLastUsedStep(t.db, user.id);
        }
      }
      if (override !== "none") {
        const twoFactorEnabled = override === "ticked";
        await updateUserProperties(t.db, await confirmedSession(t.db, admin), user.id, { name: user.name, email: user.email, admin: false, twoFactorEnabled }, CONTEXT);
      }
      await t.db.update(instanceSettings).set({ twoFactorEnabled: instance === "on" }).where(eq(instanceSettings.id, 1));

      const step = await passwordStep(t.db, { email: user.email, password: PASSWORD }, CONTEXT);
      if (!step.ok) throw new Error("password step failed");
      // As the sign-in page does (app/(auth)/login/steps.ts): the trust cookie is offered only when a code is due;
      // any other finish a challenge does not qualify for spends it.
      const viaTrust = trustToken && step.secondFactorDue
        ? await completeSignIn(t.db, { challenge: step.challenge, method: "trusted", code: "", trustToken }, CONTEXT)
        : null;
      const passwordOnly = await completeSignIn(t.db, { challenge: step.challenge, method: "none", code: "" }, CONTEXT);

      const observed =
        viaTrust?.ok ? "trusted" : step.enrollmentDue ? "enroll" : step.secondFactorDue ? "code" : passwordOnly.ok ? "password only" : "nothing";
      expect(observed).toBe(outcome);
      // The password alone never passes where something more is due.
      expect(passwordOnly.ok).toBe(outcome === "password only");
    },
  );
});
