import { AsyncLocalStorage } from "node:async_hooks";

/**
 * In-process stand-ins for what only works inside a Next request, for tests that call the app's route code and its
 * Auth.js configuration directly. Each test file wires them with vi.mock factories that import this module:
 *
 *   vi.mock("next/headers", async () => (await import("./support/next-request-shim")).nextHeadersShim());
 *   vi.mock("next-auth", async () => (await import("./support/next-request-shim")).nextAuthShim());
 *   vi.mock("next-auth/providers/credentials", async () => (await import("./support/next-request-shim")).credentialsShim());
 *
 * next/headers reads the request scope a test runs its call in (`requestScopes.run(scope, …)`): that request's
 * headers and cookie jar, so parallel calls are separate browsers (or one browser, when they share a jar).
 */
export type RequestScope = { headers: Headers; jar: Map<string, string>; written: { name: string; value: string }[] };
export const requestScopes = new AsyncLocalStorage<RequestScope>();

export function nextHeadersShim() {
  const scope = () => {
    const s = requestScopes.getStore();
    if (!s) throw new Error("next/headers called outside a request scope");
    return s;
  };
  const nameOf = (n: string | { name: string }) => (typeof n === "string" ? n : n.name);
  return {
    headers: async () => scope().headers,
    cookies: async () => {
      const s = scope();
      return {
        get: (name: string) => (s.jar.has(name) ? { name, value: s.jar.get(name)! } : undefined),
        getAll: () => [...s.jar].map(([name, value]) => ({ name, value })),
        has: (name: string) => s.jar.has(name),
        set: (name: string | { name: string; value: string }, value?: string) => {
          const v = typeof name === "string" ? value! : name.value;
          s.jar.set(nameOf(name), v);
          s.written.push({ name: nameOf(name), value: v });
        },
        delete: (name: string | { name: string }) => {
          s.jar.delete(nameOf(name));
          s.written.push({ name: nameOf(name), value: "" });
        },
      };
    },
  };
}

/**
 * Auth.js itself cannot be loaded by vitest (next-auth's ESM imports "next/server" without an extension). This does
 * what Auth.js does for the Credentials provider on `signIn("credentials", { redirect: false })`: every field as a
 * string to the app's own `authorize()` (lib/auth/next-auth.ts, unchanged), a thrown CredentialsSignin re-thrown to
 * the caller with its code, a returned user turned into the session cookie by the app's own jwt callback.
 */
export async function nextAuthShim() {
  const errors = await import("@auth/core/errors");
  const { cookies, headers } = await import("next/headers");
  type Config = {
    providers: { id: string; authorize: (credentials: Record<string, string>, request: Request) => Promise<unknown> }[];
    callbacks: { jwt: (args: { token: object; user: unknown; trigger: string }) => Promise<unknown> };
  };
  return {
    AuthError: errors.AuthError,
    CredentialsSignin: errors.CredentialsSignin,
    default: (configOf: (request: undefined) => Promise<Config>) => ({
      async signIn(providerId: string, options: Record<string, unknown>) {
        const config = await configOf(undefined);
        const provider = config.providers.find((p) => p.id === providerId)!;
        const { redirect: _redirect, ...fields } = options;
        const credentials = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)]));
        const request = new Request("http://localhost:3000/api/auth/callback/credentials", { method: "POST", headers: new Headers(await headers()) });
        let user: unknown;
        try {
          user = await provider.authorize(credentials, request);
        } catch (error) {
          if (error instanceof errors.AuthError) throw error;
          throw new errors.CallbackRouteError(undefined, { cause: error as Error });
        }
        if (!user) throw new errors.CredentialsSignin();
        const token = await config.callbacks.jwt({ token: {}, user, trigger: "signIn" });
        (await cookies()).set("authjs.session-token", JSON.stringify(token));
        return "http://localhost:3000/";
      },
      auth: async () => null,
      signOut: async () => undefined,
      unstable_update: async () => null,
      handlers: { GET: async () => new Response(null, { status: 404 }), POST: async () => new Response(null, { status: 404 }) },
    }),
  };
}

export function credentialsShim() {
  return { default: (options: object) => ({ id: "credentials", type: "credentials", ...options }) };
}
