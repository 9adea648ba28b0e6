"use server";
import { revalidatePath } from "next/cache";
import { removeUserSecurityKeys } from "@/lib/admin/remove-user-keys";
import { getUserProperties, updateUserProperties, type UserProperties } from "@/lib/admin/user-properties";
import { adminOrNull, adminSessionOrNull } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { forgetTrustedBrowsers } from "@/lib/two-factor/trusted-browsers";
import { fieldErrors, securityKeyRemovalSchema, userIdSchema, userPropertiesSchema } from "@/lib/validation/forms";
import { MESSAGES, type FormState, INVALID_REQUEST } from "@/lib/validation/messages";
import type { ConfirmState } from "../step-up-actions";

export type PropertiesState = FormState | ConfirmState;
/** `user`: the properties as the answer left them (keys, 2FA, sessions), for the dialog to show. */
export type KeyRemovalState = (FormState & { user?: UserProperties | null }) | ConfirmState;

const NOT_ALLOWED = { status: "error", message: MESSAGES.notAllowed } as const;

/** Users → Actions → Edit: the current properties of one user. Admins only. */
export async function loadUserPropertiesAction(userId: unknown): Promise<UserProperties | null> {
  const admin = await adminOrNull();
  const id = userIdSchema.safeParse(userId);
  if (!admin || !id.success) return null;
  return getUserProperties(await getDb(), id.data);
}

/** User properties → Save. Security-relevant edits wait for the admin's fresh confirmation. */
export async function saveUserPropertiesAction(userId: string, _prev: PropertiesState, formData: FormData): Promise<PropertiesState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const admin = await adminSessionOrNull();
  if (!admin) return NOT_ALLOWED;
  const id = userIdSchema.safeParse(userId);
  if (!id.success) return { status: "error", message: MESSAGES.invalidRequest };
  const parsed = userPropertiesSchema.safeParse({
    name: formData.get("name") ?? undefined,
    email: formData.get("email") ?? undefined,
    admin: formData.get("admin") ?? undefined,
    twoFactorEnabled: formData.get("twoFactorEnabled") ?? undefined,
  });
  if (!parsed.success) return { status: "error", message: "Check the highlighted fields.", fieldErrors: fieldErrors(parsed.error) };
  const result = await updateUserProperties(await getDb(), admin, id.data, parsed.data, await requestContext());
  if (!result.ok) {
    if (result.error === "confirmation_required") return { status: "confirm", method: result.method };
    const message = { not_found: MESSAGES.userNotFound, email_taken: MESSAGES.emailTaken, last_admin: MESSAGES.lastAdmin }[result.error];
    return { status: "error", message };
  }
  revalidatePath("/admin/users");
  return { status: "success", message: MESSAGES.saved };
}

/** User properties → Remove all (trusted browsers of that user). Admins only. */
export async function removeUserTrustedBrowsersAction(userId: string): Promise<FormState> {
  const admin = await adminOrNull();
  if (!admin) return NOT_ALLOWED;
  const id = userIdSchema.safeParse(userId);
  if (!id.success) return { status: "error", message: MESSAGES.invalidRequest };
  const db = await getDb();
  const context = await requestContext();
  const removed = await db.transaction((tx) => forgetTrustedBrowsers(tx, id.data, null, admin.id, context, "removed_by_admin"));
  return { status: "success", message: removed === 1 ? "1 trusted browser removed." : `${removed} trusted browsers removed.` };
}

/**
 * User properties → Remove (one key, `keyId`) or Remove all (`keyId` "all"): another user's security keys.
 * Admins only, checked here and again in lib; a key fewer weakens the account, so it waits for this
 * session's confirmation. A key id that is not this user's removes nothing. The last factor taken away
 * removes the user's 2FA (lib/admin/remove-user-keys.ts).
 */
export async function removeUserSecurityKeysAction(userId: string, _prev: KeyRemovalState, formData: FormData): Promise<KeyRemovalState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const admin = await adminSessionOrNull();
  if (!admin) return NOT_ALLOWED;
  const id = userIdSchema.safeParse(userId);
  const parsed = securityKeyRemovalSchema.safeParse({ keyId: formData.get("keyId") ?? undefined });
  if (!id.success || !parsed.success) return INVALID_REQUEST;
  const which = parsed.data.keyId === "all" ? "all" : { keyId: parsed.data.keyId };
  const db = await getDb();
  const result = await removeUserSecurityKeys(db, admin, id.data, which, await requestContext());
  if (!result.ok && result.error === "confirmation_required") return { status: "confirm", method: result.method };
  if (!result.ok && result.error === "not_allowed") return NOT_ALLOWED;
  const user = await getUserProperties(db, id.data);
  if (!result.ok) return { status: "error", message: MESSAGES.securityKeyGone, user };
  revalidatePath("/admin/users");
  const removed = result.removed === 1 ? MESSAGES.securityKeyRemoved : `${result.removed} security keys removed.`;
  return { status: "success", message: result.twoFactorOff ? `${removed} ${MESSAGES.userLastFactorRemoved}` : removed, user };
}
