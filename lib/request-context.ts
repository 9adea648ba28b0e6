import "server-only";
import { headers } from "next/headers";
import type { RequestContext } from "@/lib/audit";

/**
 * Client IP and user agent of a request. The IP is the last x-forwarded-for
 * hop, the one added by the closest proxy (Next itself when run directly);
 * earlier hops are whatever the client claimed.
 */
export function contextFromHeaders(h: Headers): RequestContext {
  const forwarded = h.get("x-forwarded-for");
  const hops = forwarded?.split(",").map((s) => s.trim()).filter(Boolean) ?? [];
  const ip = hops.at(-1) ?? h.get("x-real-ip") ?? null;
  return { ip: ip ? ip.slice(0, 64) : null, userAgent: h.get("user-agent")?.slice(0, 512) ?? null };
}

export async function requestContext(): Promise<RequestContext> {
  return contextFromHeaders(await headers());
}
