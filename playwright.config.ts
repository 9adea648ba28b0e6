import { existsSync } from "node:fs";
import { defineConfig, devices, type Project } from "@playwright/test";

/**
 * End-to-end tests against the production build (`next build` first).
 * One server per database: embedded PGlite always, PostgreSQL when
 * DATABASE_URL is set. Each starts from an empty database.
 */
const SYSTEM_CHROMIUM = "/usr/bin/chromium";
// SYSTEM_ONLY=1: only tests/system, which start servers of their own (no shared servers, no waiting on other suites).
const systemOnly = process.env.SYSTEM_ONLY === "1";
// E2E_PORT moves the shared servers (default 3100 and 3101), so that two checkouts can run the suite side by side.
const firstPort = Number(process.env.E2E_PORT || 3100);
const servers = systemOnly ? [] : [{ name: "pglite", port: firstPort }];
if (process.env.DATABASE_URL && !systemOnly) servers.push({ name: "postgres", port: firstPort + 1 });

const launchOptions = existsSync(SYSTEM_CHROMIUM)
  ? {
      executablePath: SYSTEM_CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    }
  : {};

// The specs of the projects below that run one at a time after the shared ones.
const CHAINED = /(first-run|instance-switch|passkey-sign-in|admin-key-policy|trusted-browser|step-up\.security)\.spec\.ts/;
/**
 * With two servers (DATABASE_URL set, as in CI), specs whose subject is not the database run on one of them only:
 * the pages' look, keyboard and axe checks on PGlite (the default), and the HTTP replays of attacks whose
 * in-process versions run on both drivers (tests/integration) on PostgreSQL. The manual's journeys, security keys,
 * passkeys, lockout and racing second steps run on both. With one server, everything runs on it.
 */
const ON_FIRST_SERVER_ONLY = /(look-and-feel|keyboard|accessibility|accessibility-admin|code-field|security-headers\.security|framework-holes\.security)\.spec\.ts/;
const ON_LAST_SERVER_ONLY = /(security-keys-attacks|sessions|privilege|skip-second-step|known-device)\.security\.spec\.ts|(administration|sessions-list)\.spec\.ts/;

export default defineConfig({
  testDir: "./tests/e2e",
  outputDir: "./test-results/e2e",
  fullyParallel: false,
  workers: 2,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [["list"]] : [["list"]],
  use: {
    ...devices["Desktop Chrome"],
    launchOptions,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  webServer: servers.map((server) => ({
    command: `node tests/e2e/fixtures/start-server.mjs ${server.name} ${server.port}`,
    // localhost, not 127.0.0.1: Auth.js builds its URLs with localhost.
    url: `http://localhost:${server.port}/login`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
  })),
  projects: [
    ...servers.flatMap((server, index): Project[] => [
    {
      name: `${server.name}-first-run`,
      testMatch: /first-run\.spec\.ts/,
      use: { baseURL: `http://localhost:${server.port}` },
      metadata: { server: server.name },
    },
    {
      name: server.name,
      testIgnore: [CHAINED, ...(index > 0 ? [ON_FIRST_SERVER_ONLY] : []), ...(index < servers.length - 1 ? [ON_LAST_SERVER_ONLY] : [])],
      dependencies: [`${server.name}-first-run`],
      use: { baseURL: `http://localhost:${server.port}` },
      metadata: { server: server.name },
    },
    // Instance-wide switches would disturb tests running beside them: one at a time, after the rest.
    {
      name: `${server.name}-trusted-browser`,
      testMatch: /trusted-browser\.spec\.ts/,
      dependencies: [server.name],
      use: { baseURL: `http://localhost:${server.port}` },
      metadata: { server: server.name },
    },
    {
      name: `${server.name}-instance-settings`,
      testMatch: /instance-switch\.spec\.ts/,
      dependencies: [`${server.name}-trusted-browser`],
      use: { baseURL: `http://localhost:${server.port}` },
      metadata: { server: server.name },
    },
    // Allows passkey sign-in for the instance (and needs two-factor login on while it adds keys): alone, after it.
    {
      name: `${server.name}-passkey`,
      testMatch: /passkey-sign-in\.spec\.ts/,
      dependencies: [`${server.name}-instance-settings`],
      use: { baseURL: `http://localhost:${server.port}` },
      metadata: { server: server.name },
    },
    // Takes Administration from administrators without a key (ADMIN too) while it is on: alone, after it.
    {
      name: `${server.name}-admin-key-policy`,
      testMatch: /admin-key-policy\.spec\.ts/,
      dependencies: [`${server.name}-passkey`],
      use: { baseURL: `http://localhost:${server.port}` },
      metadata: { server: server.name },
    },
    // Turns two-factor login off for a moment, too: after the instance switch, alone.
    {
      name: `${server.name}-step-up`,
      testMatch: /step-up\.security\.spec\.ts/,
      dependencies: [`${server.name}-admin-key-policy`],
      use: { baseURL: `http://localhost:${server.port}` },
      metadata: { server: server.name },
    },
    ]),
    // Attacks and faults that need servers of their own (two instances, a killed server, a restarted
    // database): tests/system starts them itself, after the shared servers' suites are done.
    {
      name: "system",
      testDir: "./tests/system",
      testMatch: /\.spec\.ts$/,
      // Up to four servers of their own run at once on 2 cores: a step may take longer than in the shared suites.
      expect: { timeout: 30_000 },
      dependencies: servers.map((server) => `${server.name}-step-up`),
      metadata: { server: "own" },
    },
  ],
});
