/** @type {import('next').NextConfig} */
const nextConfig = {
  // Container hosts: NEXT_OUTPUT=standalone npm run build also writes .next/standalone/server.js with only
  // the files it needs (docs/DEPLOY.md). Not by default: `next start` (npm start) warns on such a build.
  // npm test builds this way, so that the standalone server is what the system tests prove.
  output: process.env.NEXT_OUTPUT === "standalone" ? "standalone" : undefined,
  // PGlite ships wasm + data files; bundling would copy them into .next/static (public).
  // argon2 is a native addon. Both must be loaded from node_modules at run time.
  serverExternalPackages: ["@electric-sql/pglite", "@node-rs/argon2"],
  // Migrations are read from disk at start; make sure traced/standalone output keeps them.
  outputFileTracingIncludes: { "/*": ["./drizzle/**/*"] },
  poweredByHeader: false,
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Frame-Options", value: "DENY" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
        ],
      },
    ];
  },
};

module.exports = nextConfig;
