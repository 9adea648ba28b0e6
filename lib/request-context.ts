import "server-only";
import { isIP } from "node:net";
import { headers } from "next/headers";
import type { RequestContext } from "@/lib/audit";
import { trustedProxyHops } from "@/lib/env";
import { stampedSocketAddress } from "@/lib/socket-address";

// The longest IPv6 text is 45 characters; the rest leaves room for a zone id (fe80::1%eth0).
const MAX_IP_LENGTH = 64;
const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * The client's IP, for the audit log, the notice mails and the per-IP limit.
 *
 * With no proxy in front (`hops` 0) it is the socket's peer, and no header
 * counts. Behind `hops` proxies, each appends to X-Forwarded-For the address
 * it received the request from, and the last one is the socket's peer: the
 * client is the entry `hops` from the right of X-Forwarded-For + socket, that
 * is X-Forwarded-For's `hops`-th entry from the right. Entries left of it are
 * whatever the client wrote. Null when there is no such entry or it is no IP.
 * X-Real-IP is never read: one header, one rule.
 */
export function clientIp(forwardedFor: string | null, socketAddress: string | null, hops: number): string | null {
  if (hops === 0) return validIp(socketAddress);
  const entries = forwardedFor?.split(",") ?? [];
  return entries.length >= hops ? validIp(entries[entries.length - hops].trim()) : null;
}

/** An IP as text, IPv4-mapped IPv6 (::ffff:1.2.3.4, a dual-stack socket's view) as plain IPv4; else null. */
function validIp(candidate: string | null): string | null {
  if (!candidate || candidate.length > MAX_IP_LENGTH || isIP(candidate) === 0) return null;
  return IPV4_MAPPED.exec(candidate)?.[1] ?? candidate;
}

/** Client IP (see clientIp; `hops` from TRUST_PROXY) and user agent of a request. */
export function contextFromHeaders(h: Headers, hops = trustedProxyHops()): RequestContext {
  const ip = clientIp(h.get("x-forwarded-for"), stampedSocketAddress(h), hops);
  return { ip, userAgent: h.get("user-agent")?.slice(0, 512) ?? null };
}

export async function requestContext(): Promise<RequestContext> {
  return contextFromHeaders(await headers());
}
