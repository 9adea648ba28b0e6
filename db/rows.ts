/**
 * The rows of a raw `db.execute()`: postgres.js gives an array, PGlite an
 * object with `rows`. The one place that knows both shapes.
 */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
