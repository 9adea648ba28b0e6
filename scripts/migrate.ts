/**
 * npm run db:migrate — applies the migrations in drizzle/ and exits: the
 * deploy step of hosted deployments (run once per release, before the new
 * instances take traffic). The server also applies them at start, under an
 * advisory lock, so skipping this step is safe, only slower to start.
 * Against the embedded database it refuses while a server holds it.
 */
import { openDatabase } from "@/db";
import { assertEnvironment, databaseUrl, dataDir } from "@/lib/env";

async function main(): Promise<void> {
  assertEnvironment();
  const url = databaseUrl();
  const handle = await openDatabase({ url, dataDir: url ? null : dataDir() });
  try {
    await handle.migrate();
    console.log(`[migrate] ${url ? "PostgreSQL (DATABASE_URL)" : `embedded PostgreSQL in ${dataDir()}`}: migrations applied`);
  } finally {
    await handle.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`[migrate] failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
