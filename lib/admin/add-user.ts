import "server-only";
import type { Database } from "@/db";
import type { RequestContext } from "@/lib/audit";
import { requireConfirmation, type AdminSession, type ConfirmationRequired } from "@/lib/admin/step-up";
import { notifyAdministrators } from "@/lib/notifications/notify";
import { createUser, type NewUser } from "@/lib/users";

/**
 * Users → Add user, by an administrator. A new administrator is refused,
 * creating nothing, unless this session has confirmed; once committed, every
 * administrator is told. A plain user needs no confirmation.
 */
export async function addUser(
  db: Database,
  session: AdminSession,
  input: NewUser,
  context: RequestContext,
): Promise<{ ok: true; id: string } | { ok: false; error: "email_taken" } | ConfirmationRequired> {
  const result = await db.transaction(async (tx) => {
    if (input.admin) {
      const refused = await requireConfirmation(tx, session);
      if (refused) return refused;
    }
    return createUser(tx, input, session.id, context);
  });
  if (result.ok && input.admin) await notifyAdministrators(db, { kind: "administrator_added", name: input.name, email: input.email }, session.id, context);
  return result;
}
