"use server";
import { revalidatePath } from "next/cache";
import { recentEventsFor } from "@/lib/audit-log";
import { currentUser, currentUserSession } from "@/lib/auth/session";
import { signOut } from "@/lib/auth/next-auth";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { confirmEnrollment, startEnrollment, type EnrollmentError } from "@/lib/two-factor/enrollment";
import { qrCodeSvg } from "@/lib/two-factor/qr-code";
import { disableTwoFactor, regenerateRecoveryCodes } from "@/lib/two-factor/manage";
import type { CurrentCodeResult } from "@/lib/two-factor/current-code";
import { fieldErrors, passwordChangeSchema, totpStepSchema, userIdSchema } from "@/lib/validation/forms";
import { changePassword, type PasswordChangeResult } from "@/lib/account/password";
import { listActiveSessions, signOutEverywhere, signOutSession } from "@/lib/account/sessions";
import { describeBrowser, forgetTrustedBrowsers, listTrustedBrowsers } from "@/lib/two-factor/trusted-browsers";
import type { CodesState, EnrollmentStart } from "@/lib/validation/enrollment-states";
import { MESSAGES, type FormState, INVALID_REQUEST } from "@/lib/validation/messages";
import { keepThisSession } from "./keep-session";


const ENROLLMENT_MESSAGES: Record<EnrollmentError | "confirmation_required", string> = {
  two_factor_off: MESSAGES.twoFactorOff,
  already_enabled: MESSAGES.twoFactorAlreadyOn,
  expired: MESSAGES.enrollmentExpired,
  code_invalid: MESSAGES.codeInvalid,
  locked_out: MESSAGES.lockedOut,
  // Adding the app beside security keys: the view asks for the key first (My Settings), so only a lapse gets here.
  confirmation_required: MESSAGES.confirmationLapsed,
};
const CURRENT_CODE_MESSAGES: Record<Exclude<CurrentCodeResult, "ok">, string> = {
  invalid: MESSAGES.codeInvalid,
  locked_out: MESSAGES.lockedOut,
  not_enabled: MESSAGES.twoFactorNotOn,
};
const NOT_ALLOWED = { status: "error", message: MESSAGES.notAllowed } as const;

/** Enrollment step 1: a new secret, shown as a QR code and a Setup key — the only time it leaves the server. */
export async function startEnrollmentAction(): Promise<EnrollmentStart> {
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED;
  const result = await startEnrollment(await getDb(), caller.user, { challengeHash: null, session: { id: caller.user.id, sessionId: caller.sessionId } });
  if (!result.ok) return { status: "error", message: ENROLLMENT_MESSAGES[result.error] };
  return { status: "success", qrSvg: await qrCodeSvg(result.uri), setupKey: result.secret };
}

/** Enrollment step 2: the code from the app turns 2FA on and yields the recovery codes. */
export async function confirmEnrollmentAction(_prev: CodesState, formData: FormData): Promise<CodesState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED;
  const parsed = totpStepSchema.safeParse({ code: formData.get("code") ?? undefined });
  if (!parsed.success) return invalidCode(parsed.error);
  const db = await getDb();
  const result = await confirmEnrollment(db, caller.user.id, parsed.data.code, await requestContext(), { challengeHash: null, session: { id: caller.user.id, sessionId: caller.sessionId } });
  if (!result.ok) return { status: "error", message: ENROLLMENT_MESSAGES[result.error] };
  await keepThisSession(caller, result.sessionVersion);
  return { status: "success", recoveryCodes: result.recoveryCodes };
}

/** Disable: a current code, then 2FA is removed and other sessions end. */
export async function disableTwoFactorAction(_prev: FormState, formData: FormData): Promise<FormState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED;
  const parsed = totpStepSchema.safeParse({ code: formData.get("code") ?? undefined });
  if (!parsed.success) return invalidCode(parsed.error);
  const verdict = await disableTwoFactor(await getDb(), caller.user.id, parsed.data.code, await requestContext());
  if (typeof verdict === "string") return { status: "error", message: CURRENT_CODE_MESSAGES[verdict] };
  await keepThisSession(caller, verdict.sessionVersion);
  revalidatePath("/", "layout");
  return { status: "success", message: "Two-factor authentication is disabled." };
}

/** A new set of recovery codes after a current code. */
export async function regenerateRecoveryCodesAction(_prev: CodesState, formData: FormData): Promise<CodesState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const user = await currentUser();
  if (!user) return NOT_ALLOWED;
  const parsed = totpStepSchema.safeParse({ code: formData.get("code") ?? undefined });
  if (!parsed.success) return invalidCode(parsed.error);
  const result = await regenerateRecoveryCodes(await getDb(), user.id, parsed.data.code, await requestContext());
  if (!result.ok) return { status: "error", message: CURRENT_CODE_MESSAGES[result.error] };
  return { status: "success", recoveryCodes: result.recoveryCodes };
}

const PASSWORD_MESSAGES: Record<Exclude<PasswordChangeResult, { ok: true }>, string> = {
  wrong_password: MESSAGES.currentPasswordWrong,
  rate_limited: MESSAGES.tooManyAttempts,
  not_found: MESSAGES.notAllowed,
};

/** Change password: the current one first; every other session and trusted browser ends. */
export async function changePasswordAction(_prev: FormState, formData: FormData): Promise<FormState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED;
  const parsed = await passwordChangeSchema(caller.user).safeParseAsync({
    currentPassword: formData.get("currentPassword") ?? undefined,
    newPassword: formData.get("newPassword") ?? undefined,
  });
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    return { status: "error", message: errors.currentPassword?.[0] ?? errors.newPassword?.[0] ?? MESSAGES.invalidRequest, fieldErrors: errors };
  }
  const { currentPassword, newPassword } = parsed.data;
  const result = await changePassword(await getDb(), caller.user.id, currentPassword, newPassword, await requestContext());
  if (typeof result === "string") {
    const field = result === "wrong_password" ? { currentPassword: [PASSWORD_MESSAGES[result]] } : undefined;
    return { status: "error", message: PASSWORD_MESSAGES[result], fieldErrors: field };
  }
  await keepThisSession(caller, result.sessionVersion);
  return { status: "success", message: MESSAGES.passwordChanged };
}

/** Sign out everywhere: every session of the user ends, this one too. */
export async function signOutEverywhereAction(): Promise<void> {
  const user = await currentUser();
  if (user) await signOutEverywhere(await getDb(), user.id, await requestContext());
  await signOut({ redirectTo: "/login" });
}

/** After enrollment completes (Done): refresh what the layout shows. */
export async function refreshAfterEnrollmentAction(): Promise<void> {
  if (!(await currentUser())) return;
  revalidatePath("/", "layout");
}

function invalidCode(error: Parameters<typeof fieldErrors>[0]) {
  const errors = fieldErrors(error);
  return { status: "error" as const, message: errors.code?.[0] ?? MESSAGES.codeFormat, fieldErrors: errors };
}

export type ActivityItem = { id: number; at: string; event: string; ip: string | null; browser: string | null };

/** Security activity: the caller's own last 20 events (never anyone else's). */
export async function loadSecurityActivityAction(): Promise<ActivityItem[]> {
  const user = await currentUser();
  if (!user) return [];
  const rows = await recentEventsFor(await getDb(), user.id, 20);
  return rows.map((r) => ({ id: r.id, at: r.at.toISOString(), event: r.event, ip: r.ip, browser: r.userAgent }));
}

export type TrustedBrowserItem = { id: string; description: string; createdAt: string; lastUsedAt: string | null; expiresAt: string };

/** My Settings → Trusted browsers: the caller's own. */
export async function loadTrustedBrowsersAction(): Promise<TrustedBrowserItem[]> {
  const user = await currentUser();
  if (!user) return [];
  const rows = await listTrustedBrowsers(await getDb(), user.id);
  return rows.map((r) => ({
    id: r.id,
    description: r.description,
    createdAt: r.createdAt.toISOString(),
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    expiresAt: r.expiresAt.toISOString(),
  }));
}

/** Remove (one, by id) or Remove all (id null) of the caller's trusted browsers. */
export async function removeTrustedBrowsersAction(id: string | null): Promise<FormState> {
  const user = await currentUser();
  if (!user) return NOT_ALLOWED;
  const parsedId = id === null ? null : userIdSchema.safeParse(id);
  if (parsedId && !parsedId.success) return { status: "error", message: MESSAGES.invalidRequest };
  const db = await getDb();
  const context = await requestContext();
  await db.transaction((tx) => forgetTrustedBrowsers(tx, user.id, parsedId ? parsedId.data : null, user.id, context, "removed_by_user"));
  return { status: "success", message: id === null ? "All trusted browsers removed." : "Browser removed." };
}

export type SessionItem = { sid: string; browser: string; ip: string | null; signedInAt: string; lastActiveAt: string; current: boolean };

/** My Settings → Sessions: the caller's own active sessions, this one marked. */
export async function loadSessionsAction(): Promise<SessionItem[]> {
  const caller = await currentUserSession();
  if (!caller) return [];
  const rows = await listActiveSessions(await getDb(), caller.user.id);
  return rows.map((r) => ({
    sid: r.sid,
    browser: describeBrowser(r.userAgent),
    ip: r.ip,
    signedInAt: r.signedInAt.toISOString(),
    lastActiveAt: r.lastActiveAt.toISOString(),
    current: r.sid === caller.sessionId,
  }));
}

/** Sign out of one of the caller's sessions (only ever the caller's own); this one signs this browser out. */
export async function signOutSessionAction(sid: string): Promise<FormState> {
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED;
  const parsed = userIdSchema.safeParse(sid); // session ids are UUIDs too
  if (!parsed.success) return { status: "error", message: MESSAGES.invalidRequest };
  const ended = await signOutSession(await getDb(), caller.user.id, parsed.data, await requestContext());
  if (parsed.data === caller.sessionId) await signOut({ redirectTo: "/login" });
  return ended ? { status: "success", message: MESSAGES.sessionSignedOut } : { status: "error", message: MESSAGES.sessionGone };
}
