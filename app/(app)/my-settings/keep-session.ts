import "server-only";
import { updateSession } from "@/lib/auth/next-auth";
import { sessionGrant } from "@/lib/auth/session-grant";

/**
 * The change bumped sessionVersion to `sessionVersion`, ending every session
 * of this user; this one is re-issued at exactly that version, through a
 * server-side grant bound to its id. Never a re-read of the version: a later
 * bump by another change (an admin's override, Sign out everywhere in another
 * tab) would be granted too, and this session would outlive it.
 * (Not in a "use server" file: exported there, it would be an action anyone could call.)
 */
export async function keepThisSession(caller: { user: { id: string }; sessionId: string }, sessionVersion: number): Promise<void> {
  await updateSession({ grant: sessionGrant(caller.user.id, caller.sessionId, sessionVersion) } as never);
}
