"use server";
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { revalidatePath } from "next/cache";
import { currentUserSession } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { listSecurityKeys, removeSecurityKey, renameSecurityKey } from "@/lib/security-keys/manage";
import { finishKeyRegistration, startKeyRegistration, type KeyRegistrationError } from "@/lib/security-keys/registration";
import { startKeyConfirmation } from "@/lib/security-keys/step-up";
import { requireConfirmation } from "@/lib/admin/step-up";
import { disableTwoFactorConfirmed, regenerateRecoveryCodesConfirmed } from "@/lib/two-factor/manage";
import type { CodesState } from "@/lib/validation/enrollment-states";
import { fieldErrors, securityKeyNameSchema, userIdSchema } from "@/lib/validation/forms";
import { MAX_ATTESTATION_CHARS, parseJsonText } from "@/lib/validation/json-text";
import { MESSAGES, type FormState, INVALID_REQUEST } from "@/lib/validation/messages";
import type { ConfirmState } from "@/app/(app)/admin/step-up-actions";
import { confirmThisSession } from "../confirm-session";
import { keepThisSession } from "./keep-session";

const NOT_ALLOWED = { status: "error", message: MESSAGES.notAllowed } as const;
const NOT_ALLOWED_PROMPT = { ok: false, message: MESSAGES.notAllowed } as const;

const REGISTRATION_MESSAGES: Record<KeyRegistrationError, string> = {
  not_found: MESSAGES.notAllowed,
  expired: MESSAGES.enrollmentExpired,
  invalid: MESSAGES.securityKeyFailed,
  already_registered: MESSAGES.securityKeyAlreadyAdded,
  two_factor_off: MESSAGES.twoFactorOff,
};

export type SecurityKeyItem = { id: string; name: string; synced: boolean; passkey: boolean; createdAt: string; lastUsedAt: string | null };

/** My Settings → Security keys: the caller's own, without public keys or credential ids. */
export async function loadSecurityKeysAction(): Promise<SecurityKeyItem[]> {
  const caller = await currentUserSession();
  if (!caller) return [];
  const keys = await listSecurityKeys(await getDb(), caller.user.id);
  return keys.map((key) => ({ ...key, createdAt: key.createdAt.toISOString(), lastUsedAt: key.lastUsedAt?.toISOString() ?? null }));
}

export type KeyOptionsState = { status: "ready"; options: PublicKeyCredentialCreationOptionsJSON } | ConfirmState | FormState;

/** Add security key, step 1: the browser's prompt, once this session has confirmed (a current code). */
export async function startAddingKeyAction(): Promise<KeyOptionsState> {
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED;
  const result = await startKeyRegistration(await getDb(), { id: caller.user.id, sessionId: caller.sessionId });
  if (result.ok) return { status: "ready", options: result.options };
  if (result.error === "confirmation_required") return { status: "confirm", method: result.method };
  return { status: "error", message: REGISTRATION_MESSAGES[result.error] };
}

/** What Save answers: the first key also turned 2FA on, and its recovery codes are shown once. */
export type AddKeyState = FormState | ConfirmState | { status: "success"; message: string; recoveryCodes: string[] };

/** Add security key, step 2: the prompt's answer and the Name; stored only if both are right. */
export async function addSecurityKeyAction(answer: string, name: string): Promise<AddKeyState> {
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED;
  const parsedName = securityKeyNameSchema.safeParse({ name });
  if (!parsedName.success) return nameError(parsedName.error);
  const parsedAnswer = parseJsonText(answer, MAX_ATTESTATION_CHARS);
  if (parsedAnswer === undefined) return INVALID_REQUEST;
  const result = await finishKeyRegistration(await getDb(), { id: caller.user.id, sessionId: caller.sessionId }, parsedAnswer, parsedName.data.name, await requestContext());
  if (result.ok && result.firstFactor) {
    await keepThisSession(caller, result.firstFactor.sessionVersion);
    return { status: "success", message: MESSAGES.securityKeyAdded, recoveryCodes: result.firstFactor.recoveryCodes };
  }
  if (result.ok) return { status: "success", message: MESSAGES.securityKeyAdded };
  if (result.error === "confirmation_required") return { status: "confirm", method: result.method };
  return { status: "error", message: REGISTRATION_MESSAGES[result.error] };
}

/** Rename: one of the caller's own keys (another user's id changes nothing). */
export async function renameSecurityKeyAction(id: string, name: string): Promise<FormState> {
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED;
  const parsedId = userIdSchema.safeParse(id);
  if (!parsedId.success) return INVALID_REQUEST;
  const parsedName = securityKeyNameSchema.safeParse({ name });
  if (!parsedName.success) return nameError(parsedName.error);
  const renamed = await renameSecurityKey(await getDb(), caller.user.id, parsedId.data, parsedName.data.name, await requestContext());
  return renamed ? { status: "success", message: MESSAGES.securityKeyRenamed } : { status: "error", message: MESSAGES.securityKeyGone };
}

/** Remove: one of the caller's own keys, once this session has confirmed (a factor fewer). */
export async function removeSecurityKeyAction(id: string): Promise<FormState | ConfirmState> {
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED;
  const parsedId = userIdSchema.safeParse(id);
  if (!parsedId.success) return INVALID_REQUEST;
  const result = await removeSecurityKey(await getDb(), { id: caller.user.id, sessionId: caller.sessionId }, parsedId.data, await requestContext());
  if (result.ok) {
    if (result.twoFactorOff) await keepThisSession(caller, result.twoFactorOff.sessionVersion);
    revalidatePath("/", "layout");
    return { status: "success", message: result.twoFactorOff ? MESSAGES.lastKeyRemoved : MESSAGES.securityKeyRemoved };
  }
  if (result.error === "confirmation_required") return { status: "confirm", method: result.method };
  return { status: "error", message: MESSAGES.securityKeyGone };
}

/**
 * Disable, for a user with security keys and no authenticator app: once this
 * session confirmed with a key (the confirmation it answers "confirm" for).
 */
export async function disableWithKeyAction(): Promise<FormState | ConfirmState> {
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED;
  const result = await disableTwoFactorConfirmed(await getDb(), { id: caller.user.id, sessionId: caller.sessionId }, await requestContext());
  if (!result.ok) return { status: "confirm", method: result.method };
  await keepThisSession(caller, result.sessionVersion);
  revalidatePath("/", "layout");
  return { status: "success", message: "Two-factor authentication is disabled." };
}

/** Generate new codes, for a user with security keys and no authenticator app: once this session confirmed with a key. */
export async function regenerateCodesWithKeyAction(): Promise<CodesState | ConfirmState> {
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED;
  const result = await regenerateRecoveryCodesConfirmed(await getDb(), { id: caller.user.id, sessionId: caller.sessionId }, await requestContext());
  if (!result.ok) return { status: "confirm", method: result.method };
  return { status: "success", recoveryCodes: result.recoveryCodes };
}

/**
 * Before Add authenticator app, for a user with security keys: has this
 * session confirmed (with a key) within 5 minutes? The enrollment checks it
 * again itself; this only lets the view ask first.
 */
export async function checkOwnConfirmationAction(): Promise<FormState | ConfirmState> {
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED;
  const refused = await requireConfirmation(await getDb(), { id: caller.user.id, sessionId: caller.sessionId });
  return refused ? { status: "confirm", method: refused.method } : { status: "success" };
}

/** Confirm with a security key: the prompt, for this session (lib/security-keys/step-up.ts). */
export async function keyConfirmationOptionsAction(): Promise<{ ok: true; options: PublicKeyCredentialRequestOptionsJSON } | { ok: false; message: string }> {
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED_PROMPT;
  const started = await startKeyConfirmation(await getDb(), { id: caller.user.id, sessionId: caller.sessionId });
  if (started.ok) return started;
  return { ok: false, message: started.error === "no_keys" ? MESSAGES.noSecurityKeys : MESSAGES.notAllowed };
}

/** The confirmation My Settings asks before a key is added or removed: for the caller's own account, this session only. */
export async function confirmOwnChangeAction(_prev: FormState, formData: FormData): Promise<FormState> {
  const caller = await currentUserSession();
  if (!caller) return NOT_ALLOWED;
  return confirmThisSession({ id: caller.user.id, sessionId: caller.sessionId }, formData);
}

function nameError(error: Parameters<typeof fieldErrors>[0]): FormState {
  const errors = fieldErrors(error);
  return { status: "error", message: errors.name?.[0] ?? MESSAGES.securityKeyName, fieldErrors: errors };
}
