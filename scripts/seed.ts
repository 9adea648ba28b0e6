/**
 * Test users in bulk, for trying the Users page at scale:
 *   npm run seed -- --users 100000 [--password P]
 * Users are user00001@seed.example … with a mix of 2FA states; existing emails
 * are skipped, so running it again with a larger number adds the rest.
 * Against the embedded database it refuses while the server holds it.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { openDatabase } from "@/db";
import { DatabaseLockedError } from "@/db/lock";
import { hasAdministrator, SEED_EMAIL_DOMAIN, seedUsers } from "@/lib/admin/seed-users";
import { hashPassword } from "@/lib/auth/password";
import { installDatabaseHandle } from "@/lib/db";
import { databaseUrl, dataDir } from "@/lib/env";
import { newPasswordField } from "@/lib/validation/fields";

const USAGE = "Usage:\n  npm run seed -- --users N [--password P]   (N from 1 to 1000000)";
const MAX_USERS = 1_000_000;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { users: { type: "string" }, password: { type: "string" } } });
  const count = Number(values.users);
  if (!Number.isInteger(count) || count < 1 || count > MAX_USERS) return fail(USAGE);
  const password = newPasswordField.safeParse(values.password ?? randomBytes(12).toString("base64url"));
  if (!password.success) return fail("--password: " + password.error.issues[0].message);

  const handle = await openDatabase({ url: databaseUrl(), dataDir: databaseUrl() ? null : dataDir() });
  installDatabaseHandle(handle);
  try {
    await handle.migrate();
    if (!(await hasAdministrator(handle.db))) {
      return fail("No administrator yet: create one first (the setup link, or npm run cli -- create-user --admin …).");
    }
    const started = Date.now();
    const result = await seedUsers(handle.db, {
      count,
      passwordHash: await hashPassword(password.data),
      onBatch: (done) => process.stdout.isTTY && process.stdout.write(`\r${done} / ${count}`),
    });
    if (process.stdout.isTTY) process.stdout.write("\n");
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`Added ${result.inserted} users, skipped ${result.skipped} that existed (${seconds} s).`);
    if (result.inserted > 0) {
      console.log(`The new users (user00001@${SEED_EMAIL_DOMAIN} …) sign in with the password: ${password.data}`);
    }
    return 0;
  } finally {
    await handle.close();
  }
}

function fail(message: string): number {
  console.error(message);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof DatabaseLockedError) console.error(error.message);
    else console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
