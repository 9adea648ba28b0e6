import "server-only";
import { randomBytes } from "node:crypto";
import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage } from "node:http";
import { safeEqual } from "@/lib/crypto";

/**
 * The TCP peer of each request: the one client address nobody can write.
 *
 * Route handlers and server actions see only headers, and Next's own
 * X-Forwarded-For is the socket address only when the client sent none
 * (`??=` in next/dist/server/base-server.js), so it is the client's choice.
 * Node publishes every request it parses on the "http.server.request.start"
 * diagnostics channel, synchronously, before any 'request' listener runs:
 * there this module writes the socket address into a header of its own,
 * replacing whatever a client sent under that name. This works the same for
 * `next start`, the standalone server.js and `next dev`, with no server of ours.
 *
 * Next listens before instrumentation runs and holds early requests, which
 * therefore pass unstamped: the value starts with a random token of this
 * process, and a header without it is a client's and reads as no address.
 * The header never leaves the process (no rewrite here proxies a request on).
 */
const SOCKET_ADDRESS_HEADER = "x-socket-address";

// One token per process: Next loads this module once per bundle (instrumentation, each route).
const state = globalThis as typeof globalThis & { __socketAddressToken?: string };

/** Starts stamping every request this process receives from now on; once per process (instrumentation.ts). */
export function stampSocketAddresses(): void {
  if (state.__socketAddressToken) return;
  const token = randomBytes(16).toString("hex");
  subscribe("http.server.request.start", (message) => {
    const { request } = message as { request: IncomingMessage };
    request.headers[SOCKET_ADDRESS_HEADER] = `${token} ${request.socket.remoteAddress ?? ""}`;
  });
  state.__socketAddressToken = token;
}

/** The socket's remote address stamped on a request's headers; null when unstamped (or forged). */
export function stampedSocketAddress(h: Headers): string | null {
  const token = state.__socketAddressToken;
  const value = h.get(SOCKET_ADDRESS_HEADER);
  if (!token || !value) return null;
  const space = value.indexOf(" ");
  if (space < 0 || !safeEqual(value.slice(0, space), token)) return null;
  return value.slice(space + 1) || null;
}
