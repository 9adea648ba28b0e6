/**
 * Operator commands, for when nobody can sign in (break-glass):
 *   npm run cli -- create-user --email E --password P [--name N] [--admin]
 *   npm run cli -- reset-2fa --email E
 *   npm run cli -- set-admin --email E [--revoke]
 *   npm run cli -- settings --two-factor on|off
 *   npm run cli -- reencrypt-secrets
 * Against the embedded database they refuse while the server holds it.
 */
import { parseArgs } from "node:util";
import { openDatabase, type Database } from "@/db";
import { DatabaseLockedError } from "@/db/lock";
import { setUserRole } from "@/lib/admin/set-user-role";
import { recordEvent } from "@/lib/audit";
import { installDatabaseHandle } from "@/lib/db";
import { databaseUrl, dataDir, mailSettings } from "@/lib/env";
import { COMMAND_LINE } from "@/lib/notifications/messages";
import { notifyAdministrators, notifyRoleChanged, notifyTwoFactorRemoved } from "@/lib/notifications/notify";
import { setTwoFactorEnabled } from "@/lib/settings";
import { endSessions, removeSecondFactors } from "@/lib/two-factor/enrollment";
import { reencryptTotpSecrets } from "@/lib/two-factor/reencrypt";
import { createUser, findUserByEmail } from "@/lib/users";
import { emailField, nameField, newPasswordField } from "@/lib/validation/fields";
import { newPasswordProblem } from "@/lib/validation/password-policy";

const USAGE = `Usage:
  npm run cli -- create-user --email E --password P [--name N] [--admin]
  npm run cli -- reset-2fa --email E              remove E's 2FA (security keys too) and end their sessions
  npm run cli -- set-admin --email E [--revoke]   make E an administrator (--revoke: no longer)
  npm run cli -- settings --two-factor on|off     two-factor sign-in for the whole instance
  npm run cli -- reencrypt-secrets                after a key rotation: TOTP secrets to the newest key`;
const CLI_CONTEXT = COMMAND_LINE;
// Outside a request a notice is sent now (awaited), before the process exits; a failure is only logged.
const OPTIONS = {
  email: { type: "string" },
  password: { type: "string" },
  name: { type: "string" },
  admin: { type: "boolean" },
  revoke: { type: "boolean" },
  "two-factor": { type: "string" },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>["values"];
/** Checks its arguments before the database is opened: an error message, or the work to run. */
type Checked = string | ((db: Database) => Promise<number>);
type Command = (values: Values) => Checked | Promise<Checked>;

const COMMANDS: Record<string, Command> = {
  "create-user": createUserCommand,
  "reset-2fa": resetTwoFactorCommand,
  "set-admin": setAdminCommand,
  settings: settingsCommand,
  "reencrypt-secrets": reencryptSecretsCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(USAGE);
    return 2;
  }
  let values: Values;
  try {
    values = parseArgs({ args: rest, options: OPTIONS }).values;
  } catch (error) {
    return fail(`${error instanceof Error ? error.message : error}\n\n${USAGE}`);
  }
  const run = await command(values);
  if (typeof run === "string") return fail(run);
  mailSettings(); // a malformed SMTP_URL or MAIL_FROM: its message, before anything changes

  const handle = await openDatabase({ url: databaseUrl(), dataDir: databaseUrl() ? null : dataDir() });
  installDatabaseHandle(handle);
  try {
    await handle.migrate();
    return await run(handle.db);
  } finally {
    await handle.close();
  }
}

async function createUserCommand(values: Values): Promise<Checked> {
  const email = emailField.safeParse(values.email);
  if (!email.success) return "--email: " + email.error.issues[0].message;
  const password = newPasswordField.safeParse(values.password);
  if (!password.success) return "--password: " + password.error.issues[0].message;
  const name = nameField.safeParse(values.name ?? email.data.split("@")[0]);
  if (!name.success) return "--name: " + name.error.issues[0].message;
  // The same blocklist as Add user: a break-glass account is no place for a weak password.
  const weak = await newPasswordProblem(password.data, { name: name.data, email: email.data, whose: "the user's" });
  if (weak) return "--password: " + weak;
  const input = { name: name.data, email: email.data, password: password.data, admin: !!values.admin };
  return async (db) => {
    const result = await db.transaction((tx) => createUser(tx, input, null, CLI_CONTEXT));
    if (!result.ok) return fail(`A user with the email ${input.email} already exists.`);
    if (input.admin) await notifyAdministrators(db, { kind: "administrator_added", name: input.name, email: input.email }, null, CLI_CONTEXT);
    console.log(`Created ${input.admin ? "administrator" : "user"} ${input.email}.`);
    return 0;
  };
}

function reencryptSecretsCommand(): Checked {
  return async (db) => {
    const { reencrypted, alreadyNewest, unreadable } = await reencryptTotpSecrets(db);
    console.log(`TOTP secrets: ${reencrypted} encrypted again with the newest key, ${alreadyNewest} already were.`);
    if (unreadable > 0) return fail(`${unreadable} secret(s) could not be decrypted with any listed key: keep the old keys until those users enrol again.`);
    return 0;
  };
}

function resetTwoFactorCommand(values: Values): Checked {
  const email = emailField.safeParse(values.email);
  if (!email.success) return "--email: " + email.error.issues[0].message;
  return async (db) => {
    const user = await findUserByEmail(db, email.data);
    if (!user) return fail(`No user with the email ${email.data}.`);
    const removed = await db.transaction(async (tx) => {
      const factors = await removeSecondFactors(tx, user.id);
      await endSessions(tx, user.id);
      await recordEvent(tx, "two_factor.removed_by_admin", { targetUserId: user.id }, CLI_CONTEXT, { via: "cli" });
      return factors;
    });
    if (removed.hadTwoFactor) await notifyTwoFactorRemoved(db, user, CLI_CONTEXT, "cli");
    const keys = removed.securityKeys === 1 ? "1 security key" : `${removed.securityKeys} security keys`;
    console.log(`Two-factor authentication removed for ${email.data}, with ${keys}; their sessions were ended. They can enrol again.`);
    return 0;
  };
}

function setAdminCommand(values: Values): Checked {
  const email = emailField.safeParse(values.email);
  if (!email.success) return "--email: " + email.error.issues[0].message;
  const role = values.revoke ? "user" : "admin";
  return async (db) => {
    const user = await findUserByEmail(db, email.data);
    if (!user) return fail(`No user with the email ${email.data}.`);
    const result = await setUserRole(db, user.id, role, null, CLI_CONTEXT, { via: "cli" });
    if (!result.ok && result.error === "last_admin") {
      return fail(`${email.data} is the last administrator: make someone else an administrator first.`);
    }
    if (!result.ok) return fail(`No user with the email ${email.data}.`);
    if (result.changed) {
      await notifyRoleChanged(db, user, role === "admin", null, CLI_CONTEXT);
      if (role === "admin") await notifyAdministrators(db, { kind: "administrator_added", name: user.name, email: user.email }, null, CLI_CONTEXT);
    }
    const changed = role === "admin" ? "is now an administrator" : "is no longer an administrator";
    const unchanged = role === "admin" ? "already is an administrator" : "is not an administrator";
    console.log(`${email.data} ${result.changed ? changed : unchanged}${result.changed ? "" : "; nothing changed"}.`);
    return 0;
  };
}

function settingsCommand(values: Values): Checked {
  const value = values["two-factor"];
  if (value !== "on" && value !== "off") return "--two-factor: use on or off.\n\n" + USAGE;
  return async (db) => {
    const { changed } = await setTwoFactorEnabled(db, value === "on", null, CLI_CONTEXT, { via: "cli" });
    if (changed && value === "off") await notifyAdministrators(db, { kind: "instance_two_factor_off" }, null, CLI_CONTEXT);
    const state = `Two-factor sign-in is ${value} for this instance`;
    console.log(changed ? `${state} now.` : `${state} already; nothing changed.`);
    return 0;
  };
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
