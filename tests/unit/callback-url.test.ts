import { describe, expect, it } from "vitest";
import { safeCallbackPath } from "@/lib/validation/callback-url";

const APP = "http://localhost:3000";

/** Where a browser goes when the app redirects to `location` from a page of the app. */
const destination = (location: string) => new URL(location, `${APP}/login`);

describe("safeCallbackPath: open redirects after sign-in", () => {
  it.each([
    ["an absolute URL to another site", "https://evil.example"],
    ["an absolute URL with a path", "https://evil.example/phish"],
    ["an upper-case scheme", "HTTPS://evil.example//evil.example"],
    ["a protocol-relative URL", "//evil.example"],
    ["a protocol-relative URL with a path", "//evil.example/login"],
    ["a backslash the browser reads as a slash", "/\\evil.example"],
    ["two backslashes", "\\\\evil.example"],
    ["a tab the browser strips", "/\t/evil.example"],
    ["a newline the browser strips", "/\n/evil.example"],
    ["a carriage return", "/\r/evil.example"],
    ["a NUL byte", "/\u0000/evil.example"],
    ["a DEL character", "/\u007f/evil.example"],
    ["a javascript: URL", "javascript:alert(document.cookie)"],
    ["a data: URL", "data:text/html,<script>alert(1)</script>"],
    ["a scheme without slashes", "https:evil.example"],
    ["a relative path", "evil.example"],
    ["a leading space", " /my-settings"],
    ["an absolute URL whose path starts with two slashes", "https://localhost:3000//evil.example"],
    ["an absolute URL with a backslash path", "https://evil.example/\\evil.example"],
    ["encoded slashes a later decode turns into //", "/%2F%2Fevil.example"],
    ["an encoded backslash", "/%5Cevil.example"],
  ])("stays on the app for %s", (_attack, value) => {
    const result = safeCallbackPath(value);
    expect(result.startsWith("/")).toBe(true);
    expect(destination(result).origin).toBe(APP);
    expect(result).not.toMatch(/evil\.example/i);
  });

  it.each([
    ["the sign-in page itself (a loop)", "/login"],
    ["the sign-in page with a query", "/login?callbackUrl=/admin"],
    ["an Auth.js endpoint", "/api/auth/signout"],
  ])("falls back to / for %s", (_why, value) => {
    expect(safeCallbackPath(value)).toBe("/");
  });

  it.each([[undefined], [null], [42], [["/admin"]], [{ href: "/admin" }], [""], ["/".repeat(2049)]])(
    "falls back to / for a value that is not a usable string: %j",
    (value) => {
      expect(safeCallbackPath(value)).toBe("/");
    },
  );

  it.each([
    ["/", "/"],
    ["/my-settings", "/my-settings"],
    ["/admin/users?page=2#top", "/admin/users?page=2#top"],
  ])("keeps the in-app path %j", (value, expected) => {
    expect(safeCallbackPath(value)).toBe(expected);
    expect(destination(expected).origin).toBe(APP);
  });

  it("keeps only the path of a full URL that Auth.js built for this app", () => {
    expect(safeCallbackPath("http://localhost:3000/admin/settings?x=1")).toBe("/admin/settings?x=1");
  });
});
