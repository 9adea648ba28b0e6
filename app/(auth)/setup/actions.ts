"use server";
import { redirect } from "next/navigation";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { completeSetup } from "@/lib/setup";
import { fieldErrors, setupSchema } from "@/lib/validation/forms";
import { MESSAGES, type FormState, INVALID_REQUEST } from "@/lib/validation/messages";

/** First run: the setup token proves the caller saw the server's log; it creates the first administrator. */
export async function createAdministratorAction(_prev: FormState, formData: FormData): Promise<FormState> {
  if (!(formData instanceof FormData)) return INVALID_REQUEST;
  const parsed = await setupSchema.safeParseAsync({
    token: formData.get("token") ?? undefined,
    name: formData.get("name") ?? undefined,
    email: formData.get("email") ?? undefined,
    password: formData.get("password") ?? undefined,
  });
  if (!parsed.success) {
    return { status: "error", message: "Check the highlighted fields.", fieldErrors: fieldErrors(parsed.error) };
  }
  const { token, ...input } = parsed.data;
  const result = await completeSetup(await getDb(), token, input, await requestContext());
  if (result === "invalid_token") return { status: "error", message: MESSAGES.setupTokenInvalid };
  if (result === "email_taken") return { status: "error", message: MESSAGES.emailTaken };
  redirect("/login?setup=done");
}
