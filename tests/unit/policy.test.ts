import { describe, expect, it } from "vitest";
import { policyStatus } from "@/lib/two-factor/policy";

const DAY = 24 * 60 * 60 * 1000;
const since = new Date("2026-01-01T00:00:00Z");
const settings = (requireTwoFactorFor: "nobody" | "admins" | "everyone", requireGraceDays: number, twoFactorEnabled = true) => ({
  twoFactorEnabled,
  requireTwoFactorFor,
  requireGraceDays,
  requireSince: requireTwoFactorFor === "nobody" ? null : since,
  requireEveryoneSince: requireTwoFactorFor === "everyone" ? since : null,
});

describe("enforcement policy", () => {
  it("asks nothing of anyone when nobody is required", () => {
    expect(policyStatus(settings("nobody", 0), "admin", since)).toEqual({ kind: "none" });
  });

  it("applies to administrators only when scoped to them", () => {
    expect(policyStatus(settings("admins", 0), "admin", since)).toEqual({ kind: "due" });
    expect(policyStatus(settings("admins", 0), "user", since)).toEqual({ kind: "none" });
    expect(policyStatus(settings("everyone", 0), "user", since)).toEqual({ kind: "due" });
  });

  it("counts the grace period in whole days left, then makes enrollment due", () => {
    const policy = settings("everyone", 14);
    expect(policyStatus(policy, "user", new Date(since.getTime() + 1))).toEqual({ kind: "grace", daysLeft: 14 });
    expect(policyStatus(policy, "user", new Date(since.getTime() + 13.5 * DAY))).toEqual({ kind: "grace", daysLeft: 1 });
    expect(policyStatus(policy, "user", new Date(since.getTime() + 14 * DAY))).toEqual({ kind: "due" });
  });

  it("requires nothing while the instance switch is off (nobody could enrol)", () => {
    expect(policyStatus(settings("everyone", 0, false), "user", since)).toEqual({ kind: "none" });
  });

  it("counts administrators from when the policy first covered them, others from when it widened to everyone", () => {
    const widened = new Date(since.getTime() + 20 * DAY);
    const policy = { ...settings("everyone", 14), requireEveryoneSince: widened };
    const now = new Date(widened.getTime() + DAY);
    expect(policyStatus(policy, "admin", now)).toEqual({ kind: "due" });
    expect(policyStatus(policy, "user", now)).toEqual({ kind: "grace", daysLeft: 13 });
    expect(policyStatus({ ...policy, requireEveryoneSince: null }, "user", now)).toEqual({ kind: "none" });
  });
});
