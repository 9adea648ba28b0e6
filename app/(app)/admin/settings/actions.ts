"use server";
import { revalidatePath } from "next/cache";
import { saveSecuritySettings } from "@/lib/admin/security-settings";
import { adminSessionOrNull } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { fieldErrors, instanceSecuritySchema } from "@/lib/validation/forms";
import { MESSAGES, type FormState, INVALID_REQUEST } from "@/lib/validation/messages";
import type { ConfirmState } from "../step-up-actions";

export type SecurityState = FormState | ConfirmState;

/** Settings → Security → Save. Admins only, checked here; a weakening save waits for this session's confirmation. */
export async function saveSecuritySettingsAction(_prev: SecurityState, formData: FormData): Promise<SecurityState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const admin = await adminSessionOrNull();
  if (!admin) return { status: "error", message: MESSAGES.notAllowed };
  const parsed = instanceSecuritySchema.safeParse({
    twoFactorEnabled: formData.get("twoFactorEnabled") ?? undefined,
    trustBrowserEnabled: formData.get("trustBrowserEnabled") ?? undefined,
    passkeySignInEnabled: formData.get("passkeySignInEnabled") ?? undefined,
    requireSecurityKeyForAdmins: formData.get("requireSecurityKeyForAdmins") ?? undefined,
    trustBrowserDays: formData.get("trustBrowserDays") ?? undefined,
    requireTwoFactorFor: formData.get("requireTwoFactorFor") ?? undefined,
    requireGraceDays: formData.get("requireGraceDays") ?? undefined,
  });
  if (!parsed.success) {
    return { status: "error", message: "Check the highlighted fields.", fieldErrors: fieldErrors(parsed.error) };
  }
  const result = await saveSecuritySettings(await getDb(), admin, parsed.data, await requestContext());
  if (!result.ok && result.error === "own_key_missing") {
    return { status: "error", message: MESSAGES.ownKeyFirst, fieldErrors: { requireSecurityKeyForAdmins: [MESSAGES.ownKeyFirst] } };
  }
  if (!result.ok) return { status: "confirm", method: result.method };
  revalidatePath("/", "layout");
  return { status: "success", message: MESSAGES.saved };
}
