"use server";
import { revalidatePath } from "next/cache";
import { saveSecuritySettings } from "@/lib/admin/security-settings";
import { adminOrNull } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { fieldErrors, instanceSecuritySchema } from "@/lib/validation/forms";
import { MESSAGES, type FormState, INVALID_REQUEST } from "@/lib/validation/messages";

/** Settings → Security → Save. Admins only, checked here. */
export async function saveSecuritySettingsAction(_prev: FormState, formData: FormData): Promise<FormState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const admin = await adminOrNull();
  if (!admin) return { status: "error", message: MESSAGES.notAllowed };
  const parsed = instanceSecuritySchema.safeParse({
    twoFactorEnabled: formData.get("twoFactorEnabled") ?? undefined,
    trustBrowserEnabled: formData.get("trustBrowserEnabled") ?? undefined,
    trustBrowserDays: formData.get("trustBrowserDays") ?? undefined,
    requireTwoFactorFor: formData.get("requireTwoFactorFor") ?? undefined,
    requireGraceDays: formData.get("requireGraceDays") ?? undefined,
  });
  if (!parsed.success) {
    return { status: "error", message: "Check the highlighted fields.", fieldErrors: fieldErrors(parsed.error) };
  }
  await saveSecuritySettings(await getDb(), admin.id, parsed.data, await requestContext());
  revalidatePath("/", "layout");
  return { status: "success", message: MESSAGES.saved };
}
