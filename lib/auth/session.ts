import "server-only";
import { cache } from "react";
import { cookies, headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import type { Session } from "next-auth";
import { auth } from "@/lib/auth/next-auth";

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
 * `auth()` reads the Cookie header as the browser sent it. When a server
 * action has just re-issued the session cookie (after a sessionVersion
 * bump), Next re-renders the page in the same request: that render must see
 * the new cookie, which only `cookies()` reflects.
 */
async function requestWithCurrentCookies() {
  const jar = await cookies();
  const merged = new Headers(await headers());
  merged.set("cookie", jar.getAll().map((c) => `${c.name}=${c.value}`).join("; "));
  // The (req, res) form of auth(); the response only collects cookies, which a render cannot set anyway.
  return [{ headers: merged }, { headers: new Headers() }] as unknown as Parameters<typeof auth>;
}

/** For pages: the signed-in user, or a redirect to /login. */
export async function requireUser(): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) redirect("/login");
  return user;
}

/** For admin pages: non-admins get the not-found page (the route's existence is not confirmed). */
export async function requireAdmin(): Promise<SessionUser> {
  const user = await requireUser();
  if (user.role !== "admin") notFound();
  return user;
}

/** For admin server actions: the admin, or null (the action then refuses and changes nothing). */
export async function adminOrNull(): Promise<SessionUser | null> {
  const user = await currentUser();
  return user?.role === "admin" ? user : null;
}
