import "server-only";
import { databaseHandle } from "@/lib/db";
import { assertEnvironment, dataDir, databaseUrl, mailSettings, secrets } from "@/lib/env";
import { sweepExpired } from "@/lib/maintenance";
import { issueSetupToken } from "@/lib/setup";
import { stampSocketAddresses } from "@/lib/socket-address";

const SWEEP_EVERY_MS = 60 * 60 * 1000;

/**
 * Runs once per server process before any request (instrumentation.ts):
 * secrets, database, migrations, first-run link. Any failure stops the
 * process — a server that answers 500 to everything helps nobody.
 */
export async function startServer(): Promise<void> {
  // First: every request from here on carries its socket's address (the client IP when TRUST_PROXY is 0).
  stampSocketAddresses();
  try {
    assertEnvironment();
    secrets();
    const mail = mailSettings(); // a malformed SMTP_URL or MAIL_FROM stops the start, naming the variable
    const handle = await databaseHandle();
    await handle.migrate();
    const where = databaseUrl() ? "PostgreSQL (DATABASE_URL)" : `embedded PostgreSQL in ${dataDir()}`;
    console.log(`[start] database: ${where}, migrations applied`);
    // Host and port only: SMTP_URL may hold a password.
    console.log(`[start] mail: ${mail ? `security notifications via ${new URL(mail.smtpUrl).host}` : "off (SMTP_URL not set)"}`);
    const token = await issueSetupToken(handle.db);
    if (token) console.log(`[setup] No users yet. Create the administrator at: ${publicUrl()}/setup?token=${token}`);
    // Expired rows are only clutter (every check already ignores them); an hourly sweep keeps tables small.
    const sweep = () => sweepExpired(handle.db).catch((error) => console.error("[sweep] failed:", error instanceof Error ? error.message : error));
    void sweep();
    setInterval(sweep, SWEEP_EVERY_MS).unref();
    const close = () => void handle.close().finally(() => process.exit(0));
    process.once("SIGTERM", close);
    process.once("SIGINT", close);
  } catch (error) {
    console.error("[start] could not start:", error instanceof Error ? error.message : error);
    process.exit(1);
  }
}

function publicUrl(): string {
  const configured = process.env.AUTH_URL || process.env.APP_URL;
  if (configured) return configured.replace(/\/$/, "");
  return `http://localhost:${process.env.PORT || 3000}`;
}
