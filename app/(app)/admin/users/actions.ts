"use server";
import { revalidatePath } from "next/cache";
import { adminOrNull } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { createUser } from "@/lib/users";
import { fieldErrors, newUserSchema } from "@/lib/validation/forms";
import { MESSAGES, type FormState, INVALID_REQUEST } from "@/lib/validation/messages";

/** Users → Add user → Save. Admins only, checked here. */
export async function addUserAction(_prev: FormState, formData: FormData): Promise<FormState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const admin = await adminOrNull();
  if (!admin) return { status: "error", message: MESSAGES.notAllowed };
  const parsed = newUserSchema.safeParse({
    name: formData.get("name") ?? undefined,
    email: formData.get("email") ?? undefined,
    password: formData.get("password") ?? undefined,
    admin: formData.get("admin") ?? undefined,
  });
  if (!parsed.success) {
    return { status: "error", message: "Check the highlighted fields.", fieldErrors: fieldErrors(parsed.error) };
  }
  const db = await getDb();
  const context = await requestContext();
  const result = await db.transaction((tx) => createUser(tx, parsed.data, admin.id, context));
  if (!result.ok) return { status: "error", message: MESSAGES.emailTaken, fieldErrors: { email: [MESSAGES.emailTaken] } };
  revalidatePath("/admin/users");
  return { status: "success", message: `${parsed.data.name} was added.` };
}
