import type { Figure } from "./report";

/** What every section gets from the orchestrator. */
export type RunOptions = {
  quick: boolean;
  /** Seconds of each timed load window (after a warm-up). */
  seconds: number;
  warmupSeconds: number;
  /** Interleaved rounds of the side-by-side load figures (A, B, A, B, …). */
  rounds: number;
  /** Concurrent connections of every load test (the "concurrency 8"). */
  connections: number;
  log: (message: string) => void;
};

export type SectionResult = { figures: Figure[]; details: Record<string, unknown> };
