import { Pool } from "undici";
import type { IncomingHttpHeaders } from "node:http";

export type BenchRequest = { method: "GET" | "POST"; path: string; headers?: Record<string, string>; body?: string };

export type LoadResult = {
  /** Completed requests judged ok per second of the window. */
  rps: number;
  ok: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  seconds: number;
  /** True when `next()` ran out (the pool of users or challenges was too small for the window). */
  exhausted: boolean;
  statuses: Record<string, number>;
};

/**
 * Closed-loop load on loopback: `connections` workers, each sending its next
 * request as soon as the previous answer is read, for `seconds` (bounded).
 * `next()` builds each request at send time, so each can carry its own cookie
 * and a code that is valid right then. A request whose answer fails `ok` still
 * counts in the latency figures but not in `rps`.
 */
export async function runLoad(options: {
  origin: string;
  connections: number;
  seconds: number;
  warmupSeconds?: number;
  next: () => BenchRequest | null;
  ok: (status: number, headers: IncomingHttpHeaders) => boolean;
}): Promise<LoadResult> {
  const pool = new Pool(options.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  try {
    if (options.warmupSeconds) await window(pool, { ...options, seconds: options.warmupSeconds });
    return await window(pool, options);
  } finally {
    await pool.close();
  }
}

async function window(
  pool: Pool,
  options: { connections: number; seconds: number; next: () => BenchRequest | null; ok: (status: number, headers: IncomingHttpHeaders) => boolean },
): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let exhausted = false;
  const started = performance.now();
  const end = started + options.seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const request = options.next();
      if (!request) {
        exhausted = true;
        return;
      }
      const t0 = performance.now();
      let status = 0;
      let good = false;
      try {
        const response = await pool.request({ method: request.method, path: request.path, headers: request.headers, body: request.body });
        await response.body.arrayBuffer(); // read the whole answer: producing it is part of the work
        status = response.statusCode;
        good = options.ok(status, response.headers);
      } catch (error) {
        statuses[`error:${(error as Error).name}`] = (statuses[`error:${(error as Error).name}`] ?? 0) + 1;
      }
      latencies.push(performance.now() - t0);
      if (status) statuses[status] = (statuses[status] ?? 0) + 1;
      if (good) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: ok / seconds,
    ok,
    failed,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    seconds,
    exhausted,
    statuses,
  };
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
