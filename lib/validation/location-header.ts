/**
 * A redirect target that Node's HTTP server will send. The Fetch `Headers`
 * class accepts control characters (all but NUL, CR and LF) and the bytes
 * 0x80–0xFF; Node's `res.setHeader` refuses control characters with
 * ERR_INVALID_CHAR, which Next answers with a 500. Auth.js builds its error
 * page redirect from the raw `?error=` query value (@auth/core
 * lib/pages/index.js `error()`), so `/api/auth/error?error=%01` was a 500.
 * Everything outside visible ASCII is percent-encoded (as UTF-8).
 */
export function nodeSafeLocation(location: string): string {
  return location.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));
}
