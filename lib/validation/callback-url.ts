import { nodeSafeLocation } from "./location-header";

/**
 * Where to go after sign-in: only a path inside this app. Anything that a
 * browser could read as another origin (`//evil`, `/\evil`, `https://…`,
 * control characters) falls back to "/".
 */
export function safeCallbackPath(value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 2048) return "/";
  let path = value;
  try {
    // A full URL (Auth.js builds them) keeps only its path: whatever its host, we stay here.
    if (/^https?:\/\//i.test(path)) {
      const url = new URL(path);
      path = url.pathname + url.search + url.hash;
    }
  } catch {
    return "/";
  }
  if (!path.startsWith("/") || path.startsWith("//") || path.includes("\\")) return "/";
  // Encoded, "/%2F%2Fevil" is only a missing page here, but a proxy or a later decode could make it "//evil".
  if (/%(2f|5c)/i.test(path.split(/[?#]/)[0])) return "/";
  if (/[\u0000-\u001f\u007f]/.test(path)) return "/";
  if (path.startsWith("/login") || path.startsWith("/api/")) return "/";
  // Percent-encoded beyond visible ASCII: it ends up in a Location header, which Node refuses to send otherwise (a 500).
  return nodeSafeLocation(path);
}
