import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

/** `npm run screenshots`: regenerates docs/screenshots/*.png from a fresh embedded database. */
export default defineConfig({
  ...base,
  testDir: "./tests/screenshots",
  workers: 1,
  projects: [{ name: "screenshots", use: { baseURL: "http://localhost:3102", viewport: { width: 1100, height: 760 } }, metadata: { server: "screenshots" } }],
  webServer: {
    command: "node tests/e2e/fixtures/start-server.mjs screenshots 3102",
    url: "http://localhost:3102/login",
    reuseExistingServer: false,
    timeout: 120_000,
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
  },
});
