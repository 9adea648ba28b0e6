/**
 * A WebAuthn answer as the browser's form sends it: JSON text. Anything that
 * is not text, longer than `maxChars`, or not JSON is no answer (undefined);
 * its shape is judged by the schema of whoever reads it.
 */
export function parseJsonText(text: unknown, maxChars: number): unknown {
  if (typeof text !== "string" || !text || text.length > maxChars) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** An assertion (navigator.credentials.get) is a few hundred bytes; anything near this is not one. */
export const MAX_ASSERTION_CHARS = 16_384;
/** An attestation (navigator.credentials.create) is a few kilobytes at most (each part is bounded by its schema). */
export const MAX_ATTESTATION_CHARS = 100_000;
