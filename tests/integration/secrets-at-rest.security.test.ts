import { asc, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditEvents, totpCredentials } from "@/db/schema";
import { completeSignIn } from "@/lib/auth/second-step";
import { passwordStep } from "@/lib/auth/sign-in";
import { completeSetup, issueSetupToken } from "@/lib/setup";
import { confirmEnrollment, startEnrollment } from "@/lib/two-factor/enrollment";
import { disableTwoFactor, regenerateRecoveryCodes } from "@/lib/two-factor/manage";
import { normaliseRecoveryCode } from "@/lib/two-factor/recovery-codes";
import { createUser, findUserByEmail } from "@/lib/users";
import { testDrivers, useTestDatabase } from "./support/databases";
import {
  codeAt,
  CONTEXT,
  enrolledUser,
  eventNamesAbout,
  openChallenge,
  rawRows,
  rewindLastUsedStep,
  totpRow,
  wrongCode,
  type TestUser,
} from "./support/fixtures";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32Bytes(secret: string): Buffer {
  let bits = "";
  for (const c of secret.replace(/=+$/, "")) bits += BASE32.indexOf(c).toString(2).padStart(5, "0");
  return Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
}

/** Every spelling under which a leaked secret could sit in a row. */
function spellings(kind: string, value: string): Array<[string, string]> {
  const out: Array<[string, string]> = [[kind, value]];
  if (kind === "TOTP secret") {
    const bytes = base32Bytes(value);
    out.push([`${kind} (hex)`, bytes.toString("hex")], [`${kind} (base64)`, bytes.toString("base64").replace(/=+$/, "")]);
  }
  if (kind === "recovery code") out.push([`${kind} (normalised)`, normaliseRecoveryCode(value)]);
  return out;
}

describe.each(testDrivers())("secrets at rest on %s", (driver) => {
  const t = useTestDatabase(driver);

  /** Every row of every table outside the system schemas, as JSON text. */
  async function dumpAllTables(): Promise<Map<string, string[]>> {
    const tables = await rawRows<{ table_schema: string; table_name: string }>(
      t.db,
      sql`select table_schema, table_name from information_schema.tables
          where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
    );
    const dump = new Map<string, string[]>();
    for (const { table_schema, table_name } of tables) {
      const rows = await rawRows<{ row: string }>(
        t.db,
        sql`select row_to_json(x)::text as row from ${sql.identifier(table_schema)}.${sql.identifier(table_name)} x`,
      );
      dump.set(`${table_schema}.${table_name}`, rows.map((r) => r.row));
    }
    return dump;
  }

  it("keeps no TOTP secret, recovery code, password, challenge or setup token in plaintext in any table after a full journey", async () => {
    const sensitive: Array<[string, string]> = [];
    const keep = (kind: string, value: string) => sensitive.push(...spellings(kind, value));

    // First run: the administrator.
    const setupToken = (await issueSetupToken(t.db))!;
    keep("setup token", setupToken);
    const adminPassword = "administrator's own passphrase";
    keep("password", adminPassword);
    expect(await completeSetup(t.db, setupToken, { name: "Admin", email: "root@example.test", password: adminPassword }, CONTEXT)).toBe("ok");
    const admin = (await findUserByEmail(t.db, "root@example.test"))!;

    // The admin adds a user, who enrolls.
    const password = "users-own-passphrase-42";
    keep("password", password);
    const created = await createUser(t.db, { name: "Dana", email: "dana@example.test", password, admin: false }, admin.id, CONTEXT);
    if (!created.ok) throw new Error(created.error);
    const user: TestUser = { id: created.id, name: "Dana", email: "dana@example.test", password };
    const started = await startEnrollment(t.db, user);
    if (!started.ok) throw new Error(started.error);
    keep("TOTP secret", started.secret);
    const confirmed = await confirmEnrollment(t.db, user.id, codeAt(started.secret), CONTEXT);
    if (!confirmed.ok) throw new Error(confirmed.error);
    confirmed.recoveryCodes.forEach((code) => keep("recovery code", code));

    // Sign-ins: a wrong password, a wrong code, a good code, its replay, a recovery code.
    expect(await passwordStep(t.db, { email: user.email, password: "guess" }, CONTEXT)).toEqual({ ok: false });
    await rewindLastUsedStep(t.db, user.id);
    const challenge = await openChallenge(t.db, user);
    keep("challenge", challenge);
    const code = codeAt(started.secret);
    expect((await completeSignIn(t.db, { challenge, method: "totp", code: wrongCode(started.secret) }, CONTEXT)).ok).toBe(false);
    expect((await completeSignIn(t.db, { challenge, method: "totp", code }, CONTEXT)).ok).toBe(true);
    const second = await openChallenge(t.db, user);
    keep("challenge", second);
    expect((await completeSignIn(t.db, { challenge: second, method: "totp", code }, CONTEXT)).ok).toBe(false);
    const recoveryCode = confirmed.recoveryCodes[3];
    expect((await completeSignIn(t.db, { challenge: second, method: "recovery", code: recoveryCode }, CONTEXT)).ok).toBe(true);

    // A new set of recovery codes (time has passed since the last TOTP code).
    await rewindLastUsedStep(t.db, user.id);
    const regenerated = await regenerateRecoveryCodes(t.db, user.id, codeAt(started.secret), CONTEXT);
    if (!regenerated.ok) throw new Error(regenerated.error);
    regenerated.recoveryCodes.forEach((c) => keep("recovery code", c));
    const third = await openChallenge(t.db, user);
    keep("challenge", third);
    expect((await completeSignIn(t.db, { challenge: third, method: "recovery", code: regenerated.recoveryCodes[0] }, CONTEXT)).ok).toBe(
      true,
    );

    // Another user enrolls and later disables 2FA.
    const leaver = await enrolledUser(t.db);
    keep("TOTP secret", leaver.secret);
    leaver.recoveryCodes.forEach((c) => keep("recovery code", c));
    expect(await disableTwoFactor(t.db, leaver.id, codeAt(leaver.secret), CONTEXT)).toMatchObject({ ok: true });

    // The audit trail tells the story, in order.
    expect(await eventNamesAbout(t.db, user.id)).toEqual([
      "user.created",
      "two_factor.enabled",
      "sign_in.password_failed",
      "sign_in.code_failed",
      "sign_in.succeeded",
      "sign_in.code_replayed",
      "recovery_code.used",
      "sign_in.succeeded",
      "recovery_codes.regenerated",
      "recovery_code.used",
      "sign_in.succeeded",
    ]);
    const [createdEvent] = await t.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.targetUserId, user.id))
      .orderBy(asc(auditEvents.id))
      .limit(1);
    expect(createdEvent).toMatchObject({ actorUserId: admin.id, ip: CONTEXT.ip, userAgent: CONTEXT.userAgent });
    expect(await eventNamesAbout(t.db, leaver.id)).toContain("two_factor.disabled");

    // Nothing sensitive, in any spelling, in any table.
    const dump = await dumpAllTables();
    expect([...dump.keys()]).toEqual(
      expect.arrayContaining(["public.users", "public.totp_credentials", "public.recovery_codes", "public.audit_events"]),
    );
    const leaks: string[] = [];
    for (const [table, rows] of dump) {
      const text = rows.join("\n").toLowerCase();
      for (const [kind, value] of sensitive) if (text.includes(value.toLowerCase())) leaks.push(`${kind} in ${table}`);
    }
    expect(leaks).toEqual([]);
    // And the dump is real: it does hold the encrypted secret and the hashed codes.
    expect(dump.get("public.totp_credentials")).toHaveLength(1);
    expect(dump.get("public.recovery_codes")!.length).toBeGreaterThanOrEqual(10);
  });

  it("writes the lockout to the audit trail, with who and from where", async () => {
    const user = await enrolledUser(t.db);
    const challenge = await openChallenge(t.db, user);
    const attacker = { ip: "192.0.2.99", userAgent: "curl/8.0" };
    for (let i = 0; i < 5; i++) {
      await completeSignIn(t.db, { challenge, method: "totp", code: wrongCode(user.secret) }, attacker);
    }
    const events = await t.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.targetUserId, user.id))
      .orderBy(asc(auditEvents.id));
    expect(events.map((e) => e.event).slice(-2)).toEqual(["sign_in.code_failed", "sign_in.locked_out"]);
    expect(events.at(-1)).toMatchObject({ ip: attacker.ip, userAgent: attacker.userAgent, actorUserId: null });
  });

  it("swapping two users' encrypted TOTP secrets makes both fail: the user id is AES-GCM associated data", async () => {
    // The attack: someone who can write the database (not read the key) moves their own ciphertext
    // into a victim's row, to sign in as the victim with their own authenticator.
    const alice = await enrolledUser(t.db);
    const bob = await enrolledUser(t.db);
    const own = { [alice.id]: (await totpRow(t.db, alice.id))!.secretCiphertext, [bob.id]: (await totpRow(t.db, bob.id))!.secretCiphertext };
    const store = async (userId: string, ciphertext: string) =>
      t.db.update(totpCredentials).set({ secretCiphertext: ciphertext }).where(eq(totpCredentials.userId, userId));
    const signInWith = async (user: TestUser, secret: string) =>
      completeSignIn(t.db, { challenge: await openChallenge(t.db, user), method: "totp", code: codeAt(secret) }, CONTEXT);

    await store(alice.id, own[bob.id]);
    await store(bob.id, own[alice.id]);
    for (const [user, other] of [
      [alice, bob],
      [bob, alice],
    ]) {
      expect(await signInWith(user, other.secret), "the other's code, with the other's ciphertext").toEqual({ ok: false, error: "code_invalid" });
      expect(await signInWith(user, user.secret), "one's own code").toEqual({ ok: false, error: "code_invalid" });
      // The step-up check refuses too (before: the decryption error escaped, a 500 in My Settings).
      expect(await disableTwoFactor(t.db, user.id, codeAt(other.secret), CONTEXT)).toBe("invalid");
    }
    expect(await eventNamesAbout(t.db, alice.id)).not.toContain("sign_in.succeeded");

    // Put back, both work again: the refusals came from the swap alone.
    await store(alice.id, own[alice.id]);
    await store(bob.id, own[bob.id]);
    for (const user of [alice, bob]) expect((await signInWith(user, user.secret)).ok).toBe(true);
  });
});
