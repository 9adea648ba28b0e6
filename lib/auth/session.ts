import "server-only";
import { cache } from "react";
import { cookies, headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import type { Session } from "next-auth";
import { getToken } from "next-auth/jwt";
import { secureCookies } from "@/lib/auth/cookie-security";
import { auth } from "@/lib/auth/next-auth";
import { secrets } from "@/lib/env";
import { adminKeyMissing } from "@/lib/admin/key-policy";
import { getDb } from "@/lib/db";

export type SessionUser = { id: string; name: string; email: string; role: "admin" | "user" };

/**
 * The signed-in user, or null. A session exists only after the second step,
 * and the jwt callback has just re-checked sessionVersion and role in the
 * database. Cached per request: layout, page and actions share one lookup.
 */
export const currentUser = cache(async (): Promise<SessionUser | null> => {
  const session = (await auth(...(await requestWithCurrentCookies()))) as unknown as Session | null;
  return session?.user?.id ? session.user : null;
});

/**
 * The signed-in user with this session's id, or null: for actions that act on
 * this very session (re-issue it after a sessionVersion bump, tell it apart
 * in the Sessions list). Read it before any change that bumps the version:
 * after the bump, the cookie the request came with no longer opens a session.
 */
export const currentUserSession = cache(async (): Promise<{ user: SessionUser; sessionId: string } | null> => {
  const user = await currentUser();
  if (!user) return null;
  const sessionId = await currentSessionId();
  return sessionId ? { user, sessionId } : null;
});

/**
 * `auth()` reads the Cookie header as the browser sent it. When a server
 * action has just re-issued the session cookie (after a sessionVersion
 * bump), Next re-renders the page in the same request: that render must see
 * the new cookie, which only `cookies()` reflects.
 */
async function requestWithCurrentCookies() {
  const merged = new Headers(await headers());
  merged.set("cookie", await currentCookies());
  // The (req, res) form of auth(); the response only collects cookies, which a render cannot set anyway.
  return [{ headers: merged }, { headers: new Headers() }] as unknown as Parameters<typeof auth>;
}

async function currentCookies(): Promise<string> {
  return (await cookies()).getAll().map((c) => `${c.name}=${c.value}`).join("; ");
}

/** For pages: the signed-in user, or a redirect to /login. */
export async function requireUser(): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) redirect("/login");
  return user;
}

/**
 * For admin pages: non-admins get the not-found page (the route's existence
 * is not confirmed); an administrator whom the instance requires a security
 * key of, without one, is sent to add one (lib/admin/key-policy.ts).
 */
export async function requireAdmin(): Promise<SessionUser> {
  const user = await requireUser();
  if (user.role !== "admin") notFound();
  if (await keyMissing(user.id)) redirect("/security-key-required");
  return user;
}

/** For admin server actions: the admin, or null (the action then refuses and changes nothing). */
export async function adminOrNull(): Promise<SessionUser | null> {
  const user = await currentUser();
  return user?.role === "admin" && !(await keyMissing(user.id)) ? user : null;
}

/** Cached per request: a page and its layout both ask. */
const keyMissing = cache(async (userId: string) => adminKeyMissing(await getDb(), userId));

/**
 * For admin server actions whose change may need a confirmation: the admin
 * and the id of this very session, or null. The id (`sid`) is read from the
 * session cookie here, on the server: the session object that
 * /api/auth/session hands the browser never carries it.
 */
export async function adminSessionOrNull(): Promise<(SessionUser & { sessionId: string }) | null> {
  const caller = await currentUserSession();
  if (caller?.user.role !== "admin" || (await keyMissing(caller.user.id))) return null;
  return { ...caller.user, sessionId: caller.sessionId };
}

/** The `sid` of the session cookie that currentUser() has just checked (the same merged cookies). */
const currentSessionId = cache(async (): Promise<string | null> => {
  // Only the Cookie header: getToken would otherwise also accept an Authorization bearer.
  const cookieOnly = new Headers({ cookie: await currentCookies() });
  const token = await getToken({ req: { headers: cookieOnly }, secret: secrets().authSecret, secureCookie: await secureCookies() });
  return typeof token?.sid === "string" ? token.sid : null;
});
