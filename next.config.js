// Browser features the app never uses are denied to every frame, its own included. Security keys
// (WebAuthn) are allowed for this origin only. Clipboard writes keep the browser's default (self):
// the Setup key's Copy button. Only features Chromium knows: an unknown one is logged as an error.
const PERMISSIONS_POLICY = [
  "accelerometer=()",
  "autoplay=()",
  "browsing-topics=()",
  "camera=()",
  "display-capture=()",
  "encrypted-media=()",
  "fullscreen=()",
  "geolocation=()",
  "gyroscope=()",
  "hid=()",
  "idle-detection=()",
  "magnetometer=()",
  "microphone=()",
  "midi=()",
  "payment=()",
  "picture-in-picture=()",
  "publickey-credentials-create=(self)",
  "publickey-credentials-get=(self)",
  "screen-wake-lock=()",
  "serial=()",
  "usb=()",
  "xr-spatial-tracking=()",
].join(", ");

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
  // The headers that are the same for every response, static files included. The ones that depend on
  // the request (the CSP with its nonce, HSTS over https) come from proxy.ts (lib/security-headers.ts).
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          // frame-ancestors 'none' in the CSP says the same to current browsers; this is for older ones.
          { key: "X-Frame-Options", value: "DENY" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          // No referrer to other sites at all: our URLs carry setup tokens and callback paths.
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "Permissions-Policy", value: PERMISSIONS_POLICY },
        ],
      },
    ];
  },
};

module.exports = nextConfig;
