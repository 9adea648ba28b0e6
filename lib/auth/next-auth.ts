import "server-only";
import { randomUUID } from "node:crypto";
import NextAuth, { type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import type { NextRequest } from "next/server";
import { eq } from "drizzle-orm";
import { users } from "@/db/schema";
import { getDb } from "@/lib/db";
import { secrets } from "@/lib/env";
import { SecondStepFailed } from "@/lib/auth/errors";
import { completeSignIn, type SecondStepMethod } from "@/lib/auth/second-step";
import { isValidSessionGrant } from "@/lib/auth/session-grant";
import { endSession, sessionEnded } from "@/lib/auth/ended-sessions";
import { contextFromHeaders } from "@/lib/request-context";
import { setTrustCookie } from "@/lib/auth/trust-cookie";
import { secureCookiesFor } from "@/lib/auth/cookie-security";
import { headers } from "next/headers";
import { nodeSafeLocation } from "@/lib/validation/location-header";

/** NIST SP 800-63B-4 §2.2.3 (AAL2): re-authenticate at least every 12 hours, whatever the activity. */
export const SESSION_MAX_AGE_SECONDS = 12 * 60 * 60;
const METHODS: SecondStepMethod[] = ["totp", "recovery", "none", "enrolled", "trusted"];

declare module "next-auth" {
  interface Session {
    user: { id: string; name: string; email: string; role: "admin" | "user" };
  }
  interface User {
    role?: "admin" | "user";
    sessionVersion?: number;
  }
}

function config(useSecureCookies: boolean): NextAuthConfig {
  return {
    secret: secrets().authSecret,
    trustHost: true,
    useSecureCookies,
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: "/login", error: "/login" },
    providers: [
      Credentials({
        // Only the challenge from the password step and the code: the password never reaches step 2.
        credentials: { challenge: {}, method: {}, code: {}, trust: {}, trustToken: {} },
        async authorize(credentials, request) {
          const text = (value: unknown) => (typeof value === "string" ? value : "");
          const challenge = text(credentials.challenge);
          const method = METHODS.find((m) => m === credentials.method);
          if (!challenge || !method) throw new SecondStepFailed("challenge_expired");
          const input = { challenge, method, code: text(credentials.code), trust: credentials.trust === "on", trustToken: text(credentials.trustToken) };
          const result = await completeSignIn(await getDb(), input, contextFromHeaders(request.headers));
          if (!result.ok) throw new SecondStepFailed(result.error);
          if (result.trustToken) await setTrustCookie(result.trustToken);
          return result.user;
        },
      }),
    ],
    callbacks: {
      async jwt({ token, user, trigger, session }) {
        if (user) {
          // Sign-in: only reached through authorize(), i.e. after the second step.
          // sid names this session, so that signing out can end it alone (lib/auth/ended-sessions.ts).
          return { sub: user.id, sid: randomUUID(), sv: user.sessionVersion, authTime: Math.floor(Date.now() / 1000) };
        }
        const age = Math.floor(Date.now() / 1000) - Number(token.authTime);
        if (!token.sub || typeof token.sid !== "string" || typeof token.sv !== "number" || !(age >= 0 && age < SESSION_MAX_AGE_SECONDS)) return null;
        const db = await getDb();
        const [row] = await db
          .select({ sessionVersion: users.sessionVersion, name: users.name, email: users.email, role: users.role, ended: sessionEnded(token.sid) })
          .from(users)
          .where(eq(users.id, token.sub));
        if (!row || row.ended) return null;
        const grant = (session as { grant?: unknown } | undefined)?.grant;
        if (trigger === "update" && isValidSessionGrant(grant, token.sub, row.sessionVersion)) {
          token.sv = row.sessionVersion;
        }
        // Revocation: a bumped sessionVersion ends every older session at its next request.
        if (row.sessionVersion !== token.sv) return null;
        return { ...token, name: row.name, email: row.email, role: row.role };
      },
      session({ session, token }) {
        session.user = {
          id: token.sub!,
          name: String(token.name ?? ""),
          email: String(token.email ?? ""),
          role: token.role === "admin" ? "admin" : "user",
        } as typeof session.user;
        return session;
      },
    },
    events: {
      // Sign out ends this session for good, copies of its cookie included.
      async signOut(message) {
        const token = "token" in message ? message.token : null;
        if (!token?.sub || typeof token.sid !== "string") return;
        const expiresAt = new Date((Number(token.authTime) + SESSION_MAX_AGE_SECONDS) * 1000);
        await endSession(await getDb(), token.sid, token.sub, expiresAt);
      },
    },
    logger: {
      // A failed sign-in is an expected outcome (audited), not a server error.
      // An unreadable session cookie (forged, or signed with an old AUTH_SECRET) just means "signed out".
      error(error) {
        const type = (error as { type?: string }).type ?? error.name;
        if (type === "CredentialsSignin" || type === "JWTSessionError") return;
        console.error(`[auth] ${type}: ${error.message.split("\n")[0]}`);
      },
      warn() {},
    },
  };
}

/** Route handlers pass their request; server actions and pages do not, and their headers come from next/headers. */
async function requestHeaders(request: { headers: Headers } | undefined): Promise<Headers | null> {
  if (request?.headers) return request.headers;
  try {
    return await headers();
  } catch {
    return null; // outside a request
  }
}

/**
 * Auth.js asks for its configuration on every call (every page's auth(),
 * every sign-in): two are built once, for plain and for Secure cookies.
 * The secrets they read are fixed for the life of the process.
 */
const configs = new Map<boolean, NextAuthConfig>();
function configFor(useSecureCookies: boolean): NextAuthConfig {
  let built = configs.get(useSecureCookies);
  if (!built) configs.set(useSecureCookies, (built = config(useSecureCookies)));
  return built;
}

const nextAuth = NextAuth(async (request) => configFor(secureCookiesFor(await requestHeaders(request))));
export const { auth, signIn, signOut, unstable_update: updateSession } = nextAuth;

/** The /api/auth/* route handlers, with a Location header that Node can send (see nodeSafeLocation). */
export const handlers = {
  GET: async (request: NextRequest) => withNodeSafeLocation(await nextAuth.handlers.GET(request)),
  POST: async (request: NextRequest) => withNodeSafeLocation(await nextAuth.handlers.POST(request)),
};

function withNodeSafeLocation(response: Response): Response {
  const location = response.headers.get("location");
  if (location === null || nodeSafeLocation(location) === location) return response;
  const headers = new Headers(response.headers); // Response.redirect()'s headers are immutable
  headers.set("location", nodeSafeLocation(location));
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
