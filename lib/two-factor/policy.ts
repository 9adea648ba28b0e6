import type { InstanceSettings } from "@/db/schema";

const DAY_MS = 24 * 60 * 60 * 1000;
export const GRACE_DAYS_MAX = 90;

export type PolicyScope = InstanceSettings["requireTwoFactorFor"];
export type PolicyStatus = { kind: "none" } | { kind: "grace"; daysLeft: number } | { kind: "due" };

/**
 * Where the enforcement policy leaves a user without 2FA: nothing, a grace
 * period with the days left, or enrollment due now. Nothing while the
 * instance switch is off (nobody can enrol then). Administrators count from
 * when the policy first covered them (`requireSince`), other users from when
 * it widened to everyone: widening the scope gives the newcomers their grace
 * without giving it again to administrators already due.
 */
export function policyStatus(
  settings: Pick<InstanceSettings, "twoFactorEnabled" | "requireTwoFactorFor" | "requireGraceDays" | "requireSince" | "requireEveryoneSince">,
  role: "admin" | "user",
  now = new Date(),
): PolicyStatus {
  const scope = settings.requireTwoFactorFor;
  const since = scope === "nobody" ? null : role === "admin" ? settings.requireSince : scope === "everyone" ? settings.requireEveryoneSince : null;
  if (!settings.twoFactorEnabled || !since) return { kind: "none" };
  const deadline = since.getTime() + settings.requireGraceDays * DAY_MS;
  if (now.getTime() >= deadline) return { kind: "due" };
  return { kind: "grace", daysLeft: Math.ceil((deadline - now.getTime()) / DAY_MS) };
}
