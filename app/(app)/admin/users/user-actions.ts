"use server";
import { revalidatePath } from "next/cache";
import { confirmAdmin, isRecentlyConfirmed, stepUpMethod, type StepUpMethod } from "@/lib/admin/step-up";
import { getUserProperties, isSensitiveChange, updateUserProperties, type UserProperties } from "@/lib/admin/user-properties";
import { adminOrNull } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { forgetTrustedBrowsers } from "@/lib/two-factor/trusted-browsers";
import { confirmationSchema, fieldErrors, userIdSchema, userPropertiesSchema } from "@/lib/validation/forms";
import { MESSAGES, type FormState, INVALID_REQUEST } from "@/lib/validation/messages";

export type PropertiesState = FormState | { status: "confirm"; method: StepUpMethod };

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
  const admin = await adminOrNull();
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
  const db = await getDb();
  const current = await getUserProperties(db, id.data);
  if (!current) return { status: "error", message: MESSAGES.userNotFound };
  if (isSensitiveChange(current, parsed.data) && !(await isRecentlyConfirmed(db, admin.id))) {
    return { status: "confirm", method: await stepUpMethod(db, admin.id) };
  }
  const result = await updateUserProperties(db, admin.id, id.data, parsed.data, await requestContext());
  if (!result.ok) {
    const message = { not_found: MESSAGES.userNotFound, email_taken: MESSAGES.emailTaken, last_admin: MESSAGES.lastAdmin }[result.error];
    return { status: "error", message };
  }
  revalidatePath("/admin/users");
  return { status: "success", message: MESSAGES.saved };
}

/** The admin confirms with a current code (or the password when they have no 2FA). */
export async function confirmAdminAction(_prev: FormState, formData: FormData): Promise<FormState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const admin = await adminOrNull();
  if (!admin) return NOT_ALLOWED;
  const parsed = confirmationSchema.safeParse({ secret: formData.get("secret") ?? undefined });
  if (!parsed.success) return { status: "error", message: MESSAGES.confirmationRequired };
  const verdict = await confirmAdmin(await getDb(), admin.id, parsed.data.secret, await requestContext());
  if (verdict === "locked_out") return { status: "error", message: MESSAGES.lockedOut };
  if (verdict !== "ok") return { status: "error", message: MESSAGES.confirmationFailed };
  return { status: "success" };
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
