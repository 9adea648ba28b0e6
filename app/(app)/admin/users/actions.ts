"use server";
import { revalidatePath } from "next/cache";
import { addUser } from "@/lib/admin/add-user";
import { adminSessionOrNull } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { fieldErrors, newUserSchema } from "@/lib/validation/forms";
import { MESSAGES, type FormState, INVALID_REQUEST } from "@/lib/validation/messages";
import type { ConfirmState } from "../step-up-actions";

export type AddUserState = FormState | ConfirmState;

/** Users → Add user → Save. Admins only, checked here; a new administrator waits for this session's confirmation. */
export async function addUserAction(_prev: AddUserState, formData: FormData): Promise<AddUserState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const admin = await adminSessionOrNull();
  if (!admin) return { status: "error", message: MESSAGES.notAllowed };
  const parsed = await newUserSchema.safeParseAsync({
    name: formData.get("name") ?? undefined,
    email: formData.get("email") ?? undefined,
    password: formData.get("password") ?? undefined,
    admin: formData.get("admin") ?? undefined,
  });
  if (!parsed.success) {
    return { status: "error", message: "Check the highlighted fields.", fieldErrors: fieldErrors(parsed.error) };
  }
  const result = await addUser(await getDb(), admin, parsed.data, await requestContext());
  if (!result.ok && result.error === "confirmation_required") return { status: "confirm", method: result.method };
  if (!result.ok) return { status: "error", message: MESSAGES.emailTaken, fieldErrors: { email: [MESSAGES.emailTaken] } };
  revalidatePath("/admin/users");
  return { status: "success", message: `${parsed.data.name} was added.` };
}
