import { afterEach, describe, expect, it, vi } from "vitest";
import { contentSecurityPolicy, newNonce, requestSecurityHeaders } from "@/lib/security-headers";

function directives(policy: string): Map<string, string[]> {
  return new Map(policy.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
}

describe("security headers", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("an injected inline script cannot run: scripts only with this response's nonce, never 'unsafe-inline'", () => {
    const policy = directives(contentSecurityPolicy("abc123=="));
    expect(policy.get("script-src")).toEqual(["'self'", "'nonce-abc123=='", "'strict-dynamic'"]);
    expect(policy.get("style-src")).toEqual(["'self'", "'nonce-abc123=='"]);
    for (const values of policy.values()) expect(values).not.toContain("'unsafe-inline'");
    expect(policy.get("object-src")).toEqual(["'none'"]);
    expect(policy.get("base-uri")).toEqual(["'none'"]);
    expect(policy.get("form-action")).toEqual(["'self'"]);
    expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
  });

  it("eval and the dev overlay's inline styles are allowed in development only, inline scripts never", () => {
    expect(contentSecurityPolicy("n")).not.toContain("'unsafe-eval'");
    const development = directives(contentSecurityPolicy("n", true));
    expect(development.get("script-src")).toEqual(["'self'", "'nonce-n'", "'strict-dynamic'", "'unsafe-eval'"]);
    expect(development.get("style-src")).toEqual(["'self'", "'unsafe-inline'"]);
  });

  it("a nonce cannot be guessed from the last one: 128 random bits, new every time", () => {
    const nonces = new Set(Array.from({ length: 1000 }, newNonce));
    expect(nonces.size).toBe(1000);
    for (const nonce of nonces) expect(Buffer.from(nonce, "base64")).toHaveLength(16);
  });

  it("HSTS when served over https (AUTH_URL, or the proxy in front says https), never on plain http", () => {
    vi.stubEnv("AUTH_URL", "http://localhost:3000");
    vi.stubEnv("COOKIE_SECURE", "");
    expect(requestSecurityHeaders(new Headers(), "n")).not.toHaveProperty("Strict-Transport-Security");
    const behindTls = requestSecurityHeaders(new Headers({ "x-forwarded-proto": "https" }), "n");
    expect(behindTls["Strict-Transport-Security"]).toBe("max-age=63072000; includeSubDomains");
    vi.stubEnv("AUTH_URL", "https://signin.example.com");
    expect(requestSecurityHeaders(new Headers(), "n")["Strict-Transport-Security"]).toBe("max-age=63072000; includeSubDomains");
    expect(requestSecurityHeaders(new Headers(), "n")["Content-Security-Policy"]).toContain("'nonce-n'");
  });
});
