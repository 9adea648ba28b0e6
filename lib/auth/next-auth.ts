import "server-only";
import { randomUUID } from "node:crypto";
import NextAuth, { type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import type { NextRequest } from "next/server";
import { getDb } from "@/lib/db";
import { secrets } from "@/lib/env";
import { SecondStepFailed } from "@/lib/auth/errors";
import { completeSignIn, type SecondStepMethod } from "@/lib/auth/second-step";
import { clearPasskeyCookie, readPasskeyCookie } from "@/lib/auth/passkey-cookie";
import { completePasskeySignIn } from "@/lib/security-keys/passkey-sign-in";
import { deleteSession, recordSession, refreshSession, SESSION_MAX_AGE_SECONDS } from "@/lib/auth/session-records";
import { contextFromHeaders } from "@/lib/request-context";
import { decodeSession, encodeSession } from "@/lib/auth/session-jwt";
import { setTrustCookie } from "@/lib/auth/trust-cookie";
import { secureCookiesFor } from "@/lib/auth/cookie-security";
import { headers } from "next/headers";
import { nodeSafeLocation } from "@/lib/validation/location-header";
import { MAX_ASSERTION_CHARS, parseJsonText } from "@/lib/validation/json-text";

const METHODS: SecondStepMethod[] = ["totp", "recovery", "none", "enrolled", "trusted", "security_key"];

declare module "next-auth" {
  interface Session {
    // No session id here: this object is what /api/auth/session hands the browser (lib/auth/session.ts reads sid server-side).
    user: { id: string; name: string; email: string; role: "admin" | "user" };
  }
  interface User {
    role?: "admin" | "user";
    sessionVersion?: number;
    /** Set by authorize(), which records the session's row. */
    sid?: string;
  }
}

function config(useSecureCookies: boolean): NextAuthConfig {
  return {
    secret: secrets().authSecret,
    trustHost: true,
    useSecureCookies,
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    // Auth.js's own format, with the key derived once (lib/auth/session-jwt.ts).
    jwt: { encode: encodeSession, decode: decodeSession },
    pages: { signIn: "/login", error: "/login" },
    providers: [
      Credentials({
        // Only the challenge from the password step and the proof: the password never reaches step 2. Or a passkey's
        // assertion alone ("passkey"), over the challenge in this browser's cookie.
        credentials: { challenge: {}, method: {}, code: {}, trust: {}, trustToken: {}, assertion: {} },
        async authorize(credentials, request) {
          const db = await getDb();
          const context = contextFromHeaders(request.headers);
          const assertion = parseJsonText(credentials.assertion, MAX_ASSERTION_CHARS);
          if (credentials.method === "passkey") {
            // Sign in with a passkey: the challenge is the one this browser's cookie holds, never a field of the request.
            const result = await completePasskeySignIn(db, { challenge: await readPasskeyCookie(), assertion }, context);
            await clearPasskeyCookie();
            if (!result.ok) throw new SecondStepFailed(result.error === "not_a_passkey" ? "not_a_passkey" : "key_invalid");
            // The session's row, with the IP and browser of this sign-in: the jwt callback requires it on every request.
            const sid = randomUUID();
            await recordSession(db, { sid, userId: result.user.id, sessionVersion: result.user.sessionVersion }, context);
            return { ...result.user, sid };
          }
          const text = (value: unknown) => (typeof value === "string" ? value : "");
          const challenge = text(credentials.challenge);
          const method = METHODS.find((m) => m === credentials.method);
          if (!challenge || !method) throw new SecondStepFailed("challenge_expired");
          const input = { challenge, method, code: text(credentials.code), trust: credentials.trust === "on", trustToken: text(credentials.trustToken), assertion };
          // The session's row is written by the finish itself, with the challenge it consumes (lib/auth/second-step-finish.ts).
          const result = await completeSignIn(db, input, context);
          if (!result.ok) throw new SecondStepFailed(result.error);
          if (result.trustToken) await setTrustCookie(result.trustToken);
          return { ...result.user, sid: result.sid };
        },
      }),
    ],
    callbacks: {
      async jwt({ token, user, trigger, session }) {
        if (user) {
          // Sign-in: only reached through authorize(), i.e. after the second step, which recorded the row of `sid`.
          return { sub: user.id, sid: user.sid, sv: user.sessionVersion, authTime: Math.floor(Date.now() / 1000) };
        }
        const grant = trigger === "update" ? (session as { grant?: unknown } | undefined)?.grant : undefined;
        return refreshSession(await getDb(), token, grant);
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
        await deleteSession(await getDb(), token.sid, token.sub);
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
