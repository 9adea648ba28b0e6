import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = path.dirname(fileURLToPath(import.meta.url));

// lib/env.ts reads its secrets from the environment when both are set, and only
// otherwise generates them into DATA_DIR: tests always set both (fresh keys each
// run) and point DATA_DIR at a scratch folder, so nothing is ever written to ./data.
const env = {
  AUTH_SECRET: randomBytes(32).toString("base64url"),
  TOTP_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  DATA_DIR: path.join(os.tmpdir(), `vitest-data-${process.pid}`),
};

export default defineConfig({
  resolve: {
    alias: {
      "@": root,
      // lib/ modules start with `import "server-only"`, which throws outside a React server bundle.
      "server-only": path.join(root, "tests/support/empty.ts"),
    },
  },
  test: {
    env,
    exclude: ["**/node_modules/**", "tests/e2e/**", "bench/peer/**"],
    // 2 cores: one worker per core. Each integration file opens its own database (a PGlite
    // instance is ~0.8 GB), so more workers only add memory and contention.
    pool: "forks",
    maxWorkers: 2,
    fileParallelism: true,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["tests/unit/**/*.test.ts"], testTimeout: 10_000 },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          // Builds one migrated PGlite folder that every file copies (opening a copy takes
          // ~1 s; initialising a new PGlite takes ~6 s).
          globalSetup: ["tests/integration/support/global-setup.ts"],
          // argon2id ~25 ms a hash, PGlite and a 2-core machine: generous, but a hang still fails.
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
