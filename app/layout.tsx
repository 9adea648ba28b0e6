import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Sign in", template: "%s · Two-factor sign-in" },
  description: "Password and authenticator-code sign-in",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Every page renders per request, the 404 included: Next can only put this response's CSP
  // nonce (proxy.ts) on its scripts while rendering it. A page built ahead would carry none,
  // and the browser would refuse to run it.
  await connection();
  return (
    <html lang="en">
      <body className="min-h-screen">{children}</body>
    </html>
  );
}
