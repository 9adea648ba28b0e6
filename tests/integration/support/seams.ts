/** Hooks a test sets to run at one exact moment inside lib/ code: each runs once, then its slot is empty again. */
export type Seams<K extends string> = Record<K, (() => Promise<unknown>) | null>;

/**
 * `fn`, wrapped for a vi.mock factory: after each call, the hook in
 * `seams[key]` (if any) is taken and awaited before the result is returned —
 * where a parallel request's commit lands when two requests race. The product
 * code is unchanged; only the timing is chosen.
 */
export function withSeamAfter<K extends string, A extends unknown[], R>(fn: (...args: A) => Promise<R>, seams: Seams<K>, key: K): (...args: A) => Promise<R> {
  return async (...args) => {
    const result = await fn(...args);
    const hook = seams[key];
    seams[key] = null;
    if (hook) await hook();
    return result;
  };
}
