import { describe, expect, it } from "vitest";
import { contextFromHeaders } from "@/lib/request-context";

describe("request context for audit and per-IP limits", () => {
  it("takes the IP added by the closest proxy, not one the client put first in X-Forwarded-For", () => {
    const h = new Headers({ "x-forwarded-for": "1.2.3.4, 198.51.100.9", "user-agent": "Firefox" });
    expect(contextFromHeaders(h)).toEqual({ ip: "198.51.100.9", userAgent: "Firefox" });
  });

  it("falls back to X-Real-IP, then to nothing", () => {
    expect(contextFromHeaders(new Headers({ "x-real-ip": "198.51.100.10" })).ip).toBe("198.51.100.10");
    expect(contextFromHeaders(new Headers())).toEqual({ ip: null, userAgent: null });
    expect(contextFromHeaders(new Headers({ "x-forwarded-for": " , " })).ip).toBeNull();
  });

  it("bounds what a client can make the audit log store", () => {
    const h = new Headers({ "x-forwarded-for": "9".repeat(5000), "user-agent": "u".repeat(5000) });
    const context = contextFromHeaders(h);
    expect(context.ip).toHaveLength(64);
    expect(context.userAgent).toHaveLength(512);
  });
});
