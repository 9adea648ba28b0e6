import path from "node:path";
import { fileURLToPath } from "node:url";

// This folder sits inside the app's repository, which has a lockfile of its own: pin the
// workspace root here so that Turbopack and file tracing use this folder's node_modules
// (Better Auth's Next, not the app's) and Next does not warn about two lockfiles.
const root = path.dirname(fileURLToPath(import.meta.url));

/** @type {import('next').NextConfig} */
const nextConfig = {
  turbopack: { root },
  outputFileTracingRoot: root,
  // A native addon: loaded from node_modules at run time, as the app does.
  serverExternalPackages: ["@node-rs/argon2"],
  poweredByHeader: false,
};

export default nextConfig;
