/**
 * Operator commands, for when nobody can sign in (break-glass):
 *   npm run cli -- create-user --email E --password P [--name N] [--admin]
 *   npm run cli -- reset-2fa --email E
 * Against the embedded database they refuse while the server holds it.
 */
import { parseArgs } from "node:util";
import { openDatabase } from "@/db";
import { DatabaseLockedError } from "@/db/lock";
import { recordEvent } from "@/lib/audit";
import { useDatabaseHandle } from "@/lib/db";
import { databaseUrl, dataDir } from "@/lib/env";
import { endSessions, removeTwoFactor } from "@/lib/two-factor/enrollment";
import { createUser, findUserByEmail } from "@/lib/users";
import { emailField, nameField, newPasswordField } from "@/lib/validation/fields";

const USAGE = `Usage:
  npm run cli -- create-user --email E --password P [--name N] [--admin]
  npm run cli -- reset-2fa --email E`;
const CLI_CONTEXT = { ip: null, userAgent: "cli" };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: "string" }, password: { type: "string" }, name: { type: "string" }, admin: { type: "boolean" } },
  });
  if (command !== "create-user" && command !== "reset-2fa") {
    console.error(USAGE);
    return 2;
  }
  const email = emailField.safeParse(values.email);
  if (!email.success) return fail("--email: " + email.error.issues[0].message);

  const handle = await openDatabase({ url: databaseUrl(), dataDir: databaseUrl() ? null : dataDir() });
  useDatabaseHandle(handle);
  try {
    await handle.migrate();
    const db = handle.db;
    if (command === "create-user") {
      const password = newPasswordField.safeParse(values.password);
      if (!password.success) return fail("--password: " + password.error.issues[0].message);
      const name = nameField.safeParse(values.name ?? email.data.split("@")[0]);
      if (!name.success) return fail("--name: " + name.error.issues[0].message);
      const input = { name: name.data, email: email.data, password: password.data, admin: !!values.admin };
      const result = await db.transaction((tx) => createUser(tx, input, null, CLI_CONTEXT));
      if (!result.ok) return fail(`A user with the email ${email.data} already exists.`);
      console.log(`Created ${input.admin ? "administrator" : "user"} ${email.data}.`);
      return 0;
    }
    const user = await findUserByEmail(db, email.data);
    if (!user) return fail(`No user with the email ${email.data}.`);
    await db.transaction(async (tx) => {
      await removeTwoFactor(tx, user.id);
      await endSessions(tx, user.id);
      await recordEvent(tx, "two_factor.removed_by_admin", { targetUserId: user.id }, CLI_CONTEXT, { via: "cli" });
    });
    console.log(`Two-factor authentication removed for ${email.data}; their sessions were ended. They can enrol again.`);
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
