import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { clientIp, contextFromHeaders } from "@/lib/request-context";
import { stampSocketAddresses } from "@/lib/socket-address";

describe("client IP: X-Forwarded-For + socket, `hops` trusted proxies from the right", () => {
  it("with no proxy trusted, a client that forges X-Forwarded-For still gets its socket address", () => {
    expect(clientIp("1.2.3.4", "198.51.100.9", 0)).toBe("198.51.100.9");
    expect(clientIp("1.2.3.4, 5.6.7.8", null, 0)).toBeNull();
  });

  it("behind one proxy, the address it appended, not one the client put before it", () => {
    expect(clientIp("1.2.3.4, 203.0.113.7", "10.0.0.2", 1)).toBe("203.0.113.7");
    expect(clientIp("203.0.113.7", "10.0.0.2", 1)).toBe("203.0.113.7");
  });

  it("behind two proxies, the entry the outer one appended (the inner one appended the outer's address)", () => {
    expect(clientIp("1.2.3.4, 203.0.113.7, 10.0.0.1", "10.0.0.2", 2)).toBe("203.0.113.7");
    expect(clientIp(" 1.2.3.4 ,203.0.113.7 ,  10.0.0.1 ", "10.0.0.2", 2)).toBe("203.0.113.7");
  });

  it("a chain shorter than the proxies trusted names nobody (a request that went around them)", () => {
    expect(clientIp("10.0.0.1", "10.0.0.2", 2)).toBeNull();
    expect(clientIp(null, "10.0.0.2", 1)).toBeNull();
    expect(clientIp("", "10.0.0.2", 1)).toBeNull();
  });

  it("an entry that is not an IP is no IP", () => {
    for (const entry of ["not-an-ip", "203.0.113.7:443", "[2001:db8::1]:443", "' OR 1=1 --", "<script>", "", "9".repeat(5000), `fe80::1%${"x".repeat(100)}`]) {
      expect(clientIp(`1.2.3.4, ${entry}`, "10.0.0.2", 1), entry.slice(0, 20)).toBeNull();
      expect(clientIp(null, entry, 0), entry.slice(0, 20)).toBeNull();
    }
  });

  it("keeps IPv6, and writes a dual-stack socket's IPv4-mapped address as the IPv4 a proxy would append", () => {
    expect(clientIp(null, "2001:db8::1", 0)).toBe("2001:db8::1");
    expect(clientIp(null, "::ffff:127.0.0.1", 0)).toBe("127.0.0.1");
    expect(clientIp("::FFFF:203.0.113.7", "10.0.0.2", 1)).toBe("203.0.113.7");
    expect(clientIp("fe80::1%eth0", "10.0.0.2", 1)).toBe("fe80::1%eth0");
  });
});

describe("request context over a real socket", () => {
  let server: http.Server;
  let url: string;
  // What the app would compute for each request, from the headers Node hands on.
  const seen: ReturnType<typeof contextFromHeaders>[] = [];

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      const h = new Headers();
      for (const [name, value] of Object.entries(request.headers)) if (typeof value === "string") h.set(name, value);
      seen.push(contextFromHeaders(h));
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => vi.unstubAllEnvs());

  const FORGED = { "x-forwarded-for": "198.51.100.1", "x-real-ip": "198.51.100.2", "x-socket-address": "0123456789abcdef0123456789abcdef 198.51.100.3" };

  async function contextOf(headers: Record<string, string>) {
    await fetch(url, { headers });
    return seen.at(-1)!;
  }

  it("a client that forges the socket-address header before stamping starts (a request held during start-up) gets no IP", async () => {
    expect((await contextOf(FORGED)).ip).toBeNull();
  });

  it("once stamping runs, forged X-Forwarded-For, X-Real-IP and socket-address headers all give way to the socket's address", async () => {
    stampSocketAddresses();
    stampSocketAddresses(); // idempotent: one token, one subscriber
    expect(await contextOf({ ...FORGED, "user-agent": "Firefox" })).toEqual({ ip: "127.0.0.1", userAgent: "Firefox" });
    expect((await contextOf({})).ip).toBe("127.0.0.1");
  });

  it("TRUST_PROXY=1 takes the last X-Forwarded-For entry (the proxy's), ignoring X-Real-IP", async () => {
    stampSocketAddresses();
    vi.stubEnv("TRUST_PROXY", "1");
    expect((await contextOf({ ...FORGED, "x-forwarded-for": "198.51.100.1, 203.0.113.7" })).ip).toBe("203.0.113.7");
    expect((await contextOf({ "x-real-ip": "198.51.100.2" })).ip).toBeNull();
  });

  it("bounds what a client can make the audit log store", async () => {
    expect((await contextOf({ "user-agent": "u".repeat(5000) })).userAgent).toHaveLength(512);
  });
});
