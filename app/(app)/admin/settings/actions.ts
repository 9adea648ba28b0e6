"use server";
import { eq, sql } from "drizzle-orm";
import { revalidatePath } from "next/cache";
import { instanceSettings } from "@/db/schema";
import { recordEvent } from "@/lib/audit";
import { adminOrNull } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { requestContext } from "@/lib/request-context";
import { getSettings } from "@/lib/settings";
import { instanceSecuritySchema } from "@/lib/validation/forms";
import { MESSAGES, type FormState } from "@/lib/validation/messages";

/** Settings → Security → Save. Admins only, checked here. */
export async function saveSecuritySettingsAction(_prev: FormState, formData: FormData): Promise<FormState> {
  const admin = await adminOrNull();
  if (!admin) return { status: "error", message: MESSAGES.notAllowed };
  const parsed = instanceSecuritySchema.safeParse({ twoFactorEnabled: formData.get("twoFactorEnabled") ?? undefined });
  if (!parsed.success) return { status: "error", message: MESSAGES.invalidRequest };
  const db = await getDb();
  const context = await requestContext();
  await db.transaction(async (tx) => {
    const before = await getSettings(tx);
    await tx
      .update(instanceSettings)
      .set({ twoFactorEnabled: parsed.data.twoFactorEnabled, updatedAt: sql`now()` })
      .where(eq(instanceSettings.id, 1));
    if (before.twoFactorEnabled !== parsed.data.twoFactorEnabled) {
      await recordEvent(tx, "settings.changed", { actorUserId: admin.id }, context, {
        twoFactorEnabled: parsed.data.twoFactorEnabled,
      });
    }
  });
  revalidatePath("/", "layout");
  return { status: "success", message: MESSAGES.saved };
}
