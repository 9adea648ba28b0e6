import { sql } from "drizzle-orm";
import type { Database } from "@/db";
import { sessions } from "@/db/schema";
import { confirmAdmin, type AdminSession } from "@/lib/admin/step-up";
import { finishKeyRegistration, startKeyRegistration } from "@/lib/security-keys/registration";
import { CONTEXT, newSession, PASSWORD, type TestUser } from "./fixtures";
import { SoftwareKey, type SoftwareKeyOptions } from "./software-key";

/** A live session row of the user (a WebAuthn challenge belongs to one), that has not confirmed anything. */
export async function liveSession(db: Database, user: TestUser): Promise<AdminSession> {
  const session = newSession(user);
  await db.insert(sessions).values({ sid: session.sessionId, userId: user.id, sessionVersion: 0, expiresAt: sql`now() + interval '1 hour'` });
  return session;
}

/**
 * Adds a software key to a user without an authenticator app, as My Settings
 * does: the session confirms with the password, the prompt, Save. The first
 * key turns 2FA on; its recovery codes are returned.
 */
export async function addKey(db: Database, user: TestUser, options: SoftwareKeyOptions = {}, name = "Key") {
  const session = await liveSession(db, user);
  if ((await confirmAdmin(db, session, PASSWORD, CONTEXT)) !== "ok") throw new Error("the password did not confirm");
  const started = await startKeyRegistration(db, session);
  if (!started.ok) throw new Error(started.error);
  const key = new SoftwareKey(options);
  const added = await finishKeyRegistration(db, session, key.register(started.options), name, CONTEXT);
  if (!added.ok) throw new Error(added.error);
  return { key, id: added.id, session, recoveryCodes: added.firstFactor?.recoveryCodes ?? [] };
}
