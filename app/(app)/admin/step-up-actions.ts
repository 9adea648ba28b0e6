"use server";
import type { StepUpMethod } from "@/lib/admin/step-up";
import { adminSessionOrNull } from "@/lib/auth/session";
import { MESSAGES, type FormState } from "@/lib/validation/messages";
import { confirmThisSession } from "../confirm-session";

/** What an admin action answers when the change weakens sign-in and this session has not confirmed. */
export type ConfirmState = { status: "confirm"; method: StepUpMethod };

/** The admin confirms with a current code (or the password when they have no 2FA), for this session only. */
export async function confirmAdminAction(_prev: FormState, formData: FormData): Promise<FormState> {
  const admin = await adminSessionOrNull();
  if (!admin) return { status: "error", message: MESSAGES.notAllowed };
  return confirmThisSession(admin, formData);
}
