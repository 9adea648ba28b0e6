import { expect, test, type Browser, type BrowserContext } from "@playwright/test";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { generateSync } from "otplib";
import type { Database } from "@/db";
import { enrollTwoFactor, freshCode, signIn, signOut, submitPassword } from "../e2e/fixtures/app";
import { serverActionIds } from "../e2e/fixtures/server-actions";
import { rows, withDatabase } from "./support/database-dump";
import { freePort } from "./support/free-port";
import {
  callAction,
  cookieHeader,
  cookiesFrom,
  encodeArguments,
  ReactEncoded,
  request,
  routeHandlersOfBuild,
  serverActionsOfBuild,
  type Answer,
  type FieldValue,
  type Form,
} from "./support/http";
import { cli, createStorage, DRIVERS, startServer, type Server, type Storage } from "./support/server";

/**
 * Hostile input to every server action and route handler, over HTTP, against
 * a server of this file's own: wrong types, missing / empty / huge fields,
 * unicode digits, control characters, NUL, SQL- and HTML-ish strings, forged
 * fields — as nobody, as a plain user, as an admin, and (sign-in actions) as
 * someone between the password and the code step. Each answer must be a
 * handled one (< 500, no stack trace) and afterwards the accounts, roles,
 * password hashes, session versions, TOTP secrets, recovery codes, trusted
 * browsers, security keys and instance settings must be exactly as before.
 *
 * Allowed to change, because refusing hostile input legitimately writes them:
 * failure counters (rate_limits; users.second_factor_failures / _locked_until /
 * _lockouts — wrong codes count and lock), sign_in_challenges (the password
 * step opens them), and audit_events — but only failure events.
 *
 * The database check runs on both drivers. PostgreSQL is read directly while
 * the server runs; PGlite has no lock between processes (a second opener
 * silently diverges), so its folder is read only while the server is stopped:
 * baseline with the server stopped, fuzz, stop, compare, start again.
 *
 * Inputs stay within React's well-formed reply encoding (field "0" is valid
 * JSON, "$" strings escaped): Next's own decoder answers 500 to a malformed
 * one, which is Next's behaviour, not the app's.
 */

const RUNS = Number(process.env.FUZZ_RUNS || 12);
const ADMIN = { name: "Fuzz Admin", email: "fuzz-admin@example.com", password: "tundra maple rocket 1" };
const USER = { name: "Fuzz User", email: "fuzz-user@example.com", password: "lagoon pepper violet 2" };
/** Audit events that refusing input may add; anything else means something was done. */
const FAILURE_EVENTS = ["sign_in.password_failed", "sign_in.code_failed", "sign_in.code_replayed", "sign_in.locked_out", "sign_in.locked_attempt", "sign_in.finish_refused", "trusted_browser.refused", "security_key.refused"];
/** Next's limit for a server action body (1 MB): a larger body gets Next's own 500, see the report. */
const BODY_LIMIT_BYTES = 1_000_000;

// ---------------------------------------------------------------- values

const ARABIC_INDIC = [..."٠١٢٣٤٥٦٧٨٩"];
const FULLWIDTH = [..."０１２３４５６７８９"];
const NASTY = [
  "", " ", "\u0000", "123\u0000456", "a\u0000@example.com", "\u0007\u0008\u001b[2J", "\r\n", "\t\t",
  "' OR '1'='1", "'; DROP TABLE users; --", "1; select pg_sleep(10)", "admin'--", "\" OR \"\"=\"", "%' AND 1=0 UNION SELECT password_hash FROM users --",
  "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "//evil.example", "https://evil.example/",
  "/\\evil.example", "${7*7}", "{{7*7}}", "%00", "../../../etc/passwd", "null", "undefined", "NaN", "-1", "0", "1e309", "[]", "{}",
  "__proto__", "constructor", "\uFEFF", "\u202Eevil", "\uD83D\uDE00", "\uD800", "ｓｅｌｅｃｔ", "admin", "on", "true", "ON", "yes",
];
const nasty = fc.constantFrom(...NASTY);
/** Six digits of which at least one is not ASCII: Arabic-Indic ٠-٩, fullwidth ０-９. */
const unicodeDigits = fc
  .array(fc.constantFrom(...ARABIC_INDIC, ...FULLWIDTH, ..."0123456789"), { minLength: 6, maxLength: 6 })
  .map((d) => d.join(""))
  .filter((s) => /[^0-9]/.test(s));
const sixDigits = fc.integer({ min: 0, max: 999_999 }).map((n) => String(n).padStart(6, "0"));
const spacedDigits = sixDigits.map((d) => `${d.slice(0, 3)} ${d.slice(3)}`);
/** 100 kB to 1 MB; one multi-byte or control-character variant. */
const huge = fc
  .tuple(fc.constantFrom(100_000, 400_000, 990_000), fc.constantFrom("9", "a", "٣", "<", "\u0000", "1 "))
  .map(([bytes, unit]) => unit.repeat(Math.floor(bytes / Buffer.byteLength(unit))));
const text = fc.oneof(
  { weight: 5, arbitrary: nasty },
  { weight: 2, arbitrary: unicodeDigits },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 30 }) },
  { weight: 2, arbitrary: sixDigits },
  { weight: 1, arbitrary: spacedDigits },
  { weight: 1, arbitrary: fc.emailAddress() },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: huge },
);
/** Any field value: text, the same name twice, or a file part where a string is expected. */
const fieldValue: fc.Arbitrary<FieldValue> = fc.oneof(
  { weight: 8, arbitrary: text },
  { weight: 1, arbitrary: fc.tuple(text, text).map(([a, b]) => [a, b]) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((file) => ({ file })) },
);
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 4 });

/** Anything JSON can carry, plus React's special encodings, in an argument position. */
const argument: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  nasty,
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.uuid(),
  fc.integer({ min: 10_000, max: 200_000 }).map((n) => "x".repeat(n)),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom<unknown>(
    { status: "success", message: "forged" },
    { role: "admin", isAdmin: true, userId: "00000000-0000-0000-0000-000000000000", sessionVersion: 999, twoFactorEnabled: false },
    JSON.parse('{"__proto__":{"isAdmin":true,"role":"admin"}}'),
    { then: "not a function", constructor: { prototype: { role: "admin" } } },
    [[[[[]]]]],
  ),
  fc.constantFrom(
    ...["$undefined", "$NaN", "$Infinity", "$-Infinity", "$-0", "$n123456789012345678901234567890", "$D2020-01-01T00:00:00.000Z", "$Dnot-a-date"].map(
      (e) => new ReactEncoded(e),
    ),
  ),
);

/** Fields an attacker adds hoping something binds them. Only names the action does not read. */
const FORGED = ["role", "isAdmin", "userId", "id", "twoFactorEnabled", "sessionVersion", "admin", "passwordHash", "__proto__"];
function forgedFields(real: string[], ids: string[]): fc.Arbitrary<Form> {
  const names = FORGED.filter((n) => !real.includes(n));
  return fc
    .subarray(names)
    .chain((picked) => fc.tuple(...picked.map(() => fc.constantFrom("admin", "true", "on", "1", "999", ...ids))).map((v) => Object.fromEntries(picked.map((n, i) => [n, v[i]]))));
}

// Valid values: a hostile form is often valid but for one field, so validation must look at each field.
const valid = {
  name: fc.constantFrom("Mallory", "Eve <b>", "Ｍａｌｌｏｒｙ"),
  email: fc.constantFrom("mallory@example.com", "EVE@Example.com", ADMIN.email, USER.email),
  password: fc.constantFrom("velvet quartz harbour 1", "Kq7#vP2mX9!wLr4z"),
  checkbox: fc.constantFrom("on", "true", undefined),
  days: fc.constantFrom("1", "30", "90"),
  scope: fc.constantFrom("nobody", "admins", "everyone"),
};
/**
 * A field of an admin form: a valid value (`base`, and more in `valid`),
 * and values that no reading of the field may accept — `edges`, sent one by
 * one (just past each bound, each wrong type of character), and `invalid`
 * for the random part.
 */
type FieldSpec = { base: FieldValue | undefined; valid: fc.Arbitrary<FieldValue | undefined>; edges: Array<FieldValue | undefined>; invalid: fc.Arbitrary<FieldValue | undefined> };
const noAt = (s: FieldValue) => typeof s !== "string" || !s.includes("@");
function field(base: FieldValue | undefined, valid: fc.Arbitrary<FieldValue | undefined>, edges: Array<FieldValue | undefined>, more?: fc.Arbitrary<FieldValue | undefined>): FieldSpec {
  const listed = fc.constantFrom(...edges);
  return { base, valid, edges, invalid: more ? fc.oneof(listed, more) : listed };
}
const FIELDS = {
  name: field("Mallory", valid.name, [undefined, "", " ", "\t\r\n", "n".repeat(101), "\u0000", "Ada\u0000", "Ada\u001b[2J"], huge),
  email: field("mallory@example.com", valid.email, [undefined, "", "mallory", "mallory@", "@example.com", `${"a".repeat(250)}@example.com`, "mallory@example.com\u0000", "mallory@example.com\u0000<script>"], fc.oneof(fieldValue.filter(noAt), huge)),
  // Too short (under 15), too long, too common, and the email of the base form in it.
  password: field("velvet quartz harbour 1", valid.password, [undefined, "", "1234567", "velvet quartz ", "p".repeat(129), "Password1234567", "mallory@example.com 1"], fc.oneof(fc.string({ maxLength: 14 }), huge)),
  checkbox: field("on", valid.checkbox, ["", "off", "ON", "1", "yes", "true ", "on\u0000", { file: "on" }], fieldValue.filter((v) => v !== "on" && v !== "true")),
  days: field("7", valid.days, ["0", "91", "-1", "1.5", "abc", "٣٠", "３０", "", " ", "1e9", "NaN", "Infinity", "9".repeat(400), "\u0000", "7\u0000"]),
  graceDays: field("7", fc.constantFrom("0", "7", "90"), ["-1", "91", "2.5", "abc", "٣", "３", "1e9", "NaN", "Infinity", "\u0000", "7\u0000"]),
  scope: field("everyone", valid.scope, [undefined, "", "all", "Everyone", "admins ", "nobody\u0000", "__proto__"], fieldValue.filter((v) => !["nobody", "admins", "everyone"].includes(v as string))),
};

/**
 * An admin's form in which at least one field is certainly invalid: the
 * action must then change nothing (with every field valid, a change would be
 * legitimate). `edges`: each listed invalid value of each field, the other
 * fields valid — so that a bound missing from one field alone is seen, not
 * left to chance; `arbitrary`: one broken field, the others valid or hostile.
 */
function formWithOneBroken(fields: Record<string, FieldSpec>): { arbitrary: fc.Arbitrary<Form>; edges: Form[] } {
  const names = Object.keys(fields);
  const base = Object.fromEntries(names.map((n) => [n, fields[n].base]));
  return {
    edges: names.flatMap((n) => fields[n].edges.map((edge) => ({ ...base, [n]: edge }))),
    arbitrary: fc.constantFrom(...names).chain((broken) =>
      fc.record(
        Object.fromEntries(
          names.map((n) => [n, n === broken ? fields[n].invalid : fc.oneof(fields[n].valid, maybe(fieldValue))]),
        ) as Record<string, fc.Arbitrary<FieldValue | undefined>>,
      ),
    ),
  };
}
/** A form of only hostile or valid values, with no guarantee: for callers who may not change anything anyway. */
function anyForm(fields: Record<string, fc.Arbitrary<FieldValue | undefined> | null>) {
  return fc.record(
    Object.fromEntries(Object.entries(fields).map(([n, v]) => [n, v ? fc.oneof(v, maybe(fieldValue)) : maybe(fieldValue)])) as Record<
      string,
      fc.Arbitrary<FieldValue | undefined>
    >,
  );
}

// ---------------------------------------------------------------- who calls

type Who = "nobody" | "user" | "admin" | "pending";
type World = {
  server: Server;
  storage: Storage;
  cookies: Record<Who, string>;
  secrets: string[];
  ids: { admin: string; user: string; adminBrowser: string };
  adminTrustToken: string;
  challenge: string;
};

/** What a fuzz case sends to one action: its arguments before the FormData, and the FormData (or none). */
type Call = { before: unknown[]; form: Form | null };
/**
 * `form`: the action's last parameter is a FormData (the form's fields).
 * `edges`: calls sent before the random ones (see formWithOneBroken).
 */
type ActionFuzz = { callers: Who[]; runs?: number; form?: true; call: (who: Who, w: World) => fc.Arbitrary<Call>; edges?: (who: Who, w: World) => Call[] };

const prevState = argument;
const ADD_USER = formWithOneBroken({ name: FIELDS.name, email: FIELDS.email, password: FIELDS.password, admin: FIELDS.checkbox });
// The user's own email, role and 2FA as base: a wrongly accepted edge is then no sensitive change (which
// would wait for the admin's confirmation) and is saved — visible in the database.
const USER_PROPERTIES = formWithOneBroken({
  name: FIELDS.name,
  email: { ...FIELDS.email, base: USER.email },
  admin: { ...FIELDS.checkbox, base: undefined },
  twoFactorEnabled: FIELDS.checkbox,
});
const SECURITY_SETTINGS_FIELDS = {
  twoFactorEnabled: FIELDS.checkbox,
  trustBrowserEnabled: FIELDS.checkbox,
  trustBrowserDays: FIELDS.days,
  requireTwoFactorFor: FIELDS.scope,
  requireGraceDays: FIELDS.graceDays,
};
const SECURITY_SETTINGS = formWithOneBroken(SECURITY_SETTINGS_FIELDS);
const CODE_FIELD = { code: fc.oneof(sixDigits, spacedDigits) };
/** A hostile id, or (for callers who must not reach them) the real ids of others. */
const idFor = (who: Who, w: World, realIds: string[]) =>
  who === "admin" ? fc.oneof(argument, fc.uuid()) : fc.oneof(argument, fc.uuid(), fc.constantFrom(...realIds));
const withForged = (form: fc.Arbitrary<Form>, real: string[], w: World) =>
  fc.tuple(form, forgedFields(real, [w.ids.admin, w.ids.user])).map(([f, forged]) => ({ ...forged, ...f }));
const noArgs: ActionFuzz["call"] = () => fc.record({ before: fc.array(argument, { maxLength: 3 }), form: fc.option(anyForm({}), { nil: null }) });
/** A sign-in step's JSON body: real field names with hostile values (any JSON type), plus forged fields. */
const jsonValue: fc.Arbitrary<unknown> = fc.oneof({ weight: 4, arbitrary: fieldValue.map((v) => (typeof v === "object" && !Array.isArray(v) ? v.file : v)) }, argument, fc.array(argument, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), argument, { maxKeys: 3 }));
const signInStepFields = (w: World) =>
  fc
    .record(
      {
        email: fc.oneof(valid.email, jsonValue),
        password: fc.oneof(valid.password, jsonValue),
        method: fc.oneof(fc.constantFrom("totp", "recovery", "none", "enrolled", "trusted", "security_key"), jsonValue),
        assertion: fc.oneof(fc.json(), jsonValue),
        code: fc.oneof(sixDigits, spacedDigits, unicodeDigits, jsonValue),
        trust: fc.oneof(fc.constantFrom("on", true, "true"), jsonValue),
        callbackUrl: fc.oneof(fc.constantFrom("/admin", "//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"), jsonValue),
      },
      { requiredKeys: [] },
    )
    .chain((fields) => forgedFields(Object.keys(fields), [w.ids.admin, w.ids.user]).map((forged) => ({ ...forged, ...fields })));
const ALL: Who[] = ["nobody", "user", "admin"];
const SIGN_IN: Who[] = ["nobody", "user", "admin", "pending"];

/** Every server action, by name. A new action without an entry here fails the test. */
const ACTIONS: Record<string, ActionFuzz> = {
  abandonSignInAction: { callers: SIGN_IN, call: noArgs },
  cancelSignInAction: { callers: SIGN_IN, call: noArgs },
  startSignInEnrollmentAction: { callers: SIGN_IN, call: noArgs },
  confirmSignInEnrollmentAction: {
    form: true,
    callers: SIGN_IN,
    call: (_who, w) => fc.record({ before: fc.tuple(prevState), form: withForged(anyForm({ code: CODE_FIELD.code }), ["code"], w) }),
  },
  finishSignInEnrollmentAction: {
    callers: SIGN_IN,
    call: () => fc.record({ before: fc.tuple(fc.oneof(argument, fc.constantFrom("https://evil.example/", "//evil.example", "/admin"))), form: fc.constant(null) }),
  },
  createAdministratorAction: {
    // Users exist: even a complete, valid form must be refused, so no field is forced invalid.
    form: true,
    callers: ALL,
    call: (_who, w) =>
      fc.record({
        before: fc.tuple(prevState),
        form: withForged(
          anyForm({ token: fc.string({ maxLength: 40 }), name: valid.name, email: valid.email, password: valid.password }),
          ["token", "name", "email", "password"],
          w,
        ),
      }),
  },
  addUserAction: {
    form: true,
    callers: ALL,
    call: (who, w) => {
      const fields = { name: valid.name, email: valid.email, password: valid.password, admin: valid.checkbox };
      const form = who === "admin" ? ADD_USER.arbitrary : anyForm(fields);
      return fc.record({ before: fc.tuple(prevState), form: withForged(form, Object.keys(fields), w) });
    },
    edges: (who) => (who === "admin" ? ADD_USER.edges.map((form) => ({ before: [{ status: "idle" }], form })) : []),
  },
  loadUserPropertiesAction: {
    callers: ALL,
    call: (_who, w) => fc.record({ before: fc.tuple(fc.oneof(argument, fc.constantFrom(w.ids.admin, w.ids.user))), form: fc.constant(null) }),
  },
  saveUserPropertiesAction: {
    form: true,
    callers: ALL,
    call: (who, w) => {
      const fields = { name: valid.name, email: valid.email, admin: valid.checkbox, twoFactorEnabled: valid.checkbox };
      const form = who === "admin" ? USER_PROPERTIES.arbitrary : anyForm(fields);
      // The admin may edit any real user: with a broken form, nothing happens either way.
      const userId = fc.oneof(argument, fc.uuid(), fc.constantFrom(w.ids.admin, w.ids.user));
      return fc.record({ before: fc.tuple(userId, prevState), form: withForged(form, Object.keys(fields), w) });
    },
    edges: (who, w) => (who === "admin" ? USER_PROPERTIES.edges.map((form) => ({ before: [w.ids.user, { status: "idle" }], form })) : []),
  },
  confirmAdminAction: {
    form: true,
    callers: ALL,
    call: (_who, w) =>
      fc.record({ before: fc.tuple(prevState), form: withForged(anyForm({ secret: fc.oneof(sixDigits, spacedDigits, valid.password) }), ["secret"], w) }),
  },
  removeUserTrustedBrowsersAction: {
    callers: ALL,
    call: (who, w) => fc.record({ before: fc.tuple(idFor(who, w, [w.ids.admin, w.ids.user])), form: fc.constant(null) }),
  },
  removeUserSecurityKeysAction: {
    // Nobody here has a key, and the admin's session never confirmed (its confirmation was the first sign-in's):
    // even the real user ids with "all" may remove nothing.
    form: true,
    callers: ALL,
    call: (_who, w) => {
      const userId = fc.oneof(argument, fc.uuid(), fc.constantFrom(w.ids.admin, w.ids.user));
      return fc.record({ before: fc.tuple(userId, prevState), form: withForged(anyForm({ keyId: fc.oneof(fc.uuid(), fc.constant("all")) }), ["keyId"], w) });
    },
  },
  saveSecuritySettingsAction: {
    form: true,
    callers: ALL,
    call: (who, w) => {
      const open = anyForm({ twoFactorEnabled: valid.checkbox, trustBrowserEnabled: valid.checkbox, trustBrowserDays: valid.days, requireTwoFactorFor: valid.scope, requireGraceDays: valid.days });
      return fc.record({ before: fc.tuple(prevState), form: withForged(who === "admin" ? SECURITY_SETTINGS.arbitrary : open, Object.keys(SECURITY_SETTINGS_FIELDS), w) });
    },
    edges: (who) => (who === "admin" ? SECURITY_SETTINGS.edges.map((form) => ({ before: [{ status: "idle" }], form })) : []),
  },
  // Signed in, it ends that session for good (its row in sessions goes), and with it this test's cookie: nobody only.
  signOutAction: { callers: ["nobody"], call: noArgs },
  startEnrollmentAction: { callers: ALL, call: noArgs },
  confirmEnrollmentAction: {
    form: true,
    callers: ALL,
    call: (_who, w) => fc.record({ before: fc.tuple(prevState), form: withForged(anyForm(CODE_FIELD), ["code"], w) }),
  },
  disableTwoFactorAction: {
    form: true,
    callers: ALL,
    call: (_who, w) => fc.record({ before: fc.tuple(prevState), form: withForged(anyForm(CODE_FIELD), ["code"], w) }),
  },
  regenerateRecoveryCodesAction: {
    form: true,
    callers: ALL,
    call: (_who, w) => fc.record({ before: fc.tuple(prevState), form: withForged(anyForm(CODE_FIELD), ["code"], w) }),
  },
  changePasswordAction: {
    // The current password is never the caller's real one here (null: hostile text only), so nothing may change.
    form: true,
    callers: ALL,
    call: (_who, w) =>
      fc.record({
        before: fc.tuple(prevState),
        form: withForged(anyForm({ currentPassword: null, newPassword: valid.password }), ["currentPassword", "newPassword"], w),
      }),
  },
  // Signed in, it ends every session of the caller (a change, and the end of this test's cookies): nobody only.
  signOutEverywhereAction: { callers: ["nobody"], call: noArgs },
  refreshAfterEnrollmentAction: { callers: ALL, call: noArgs },
  loadSecurityActivityAction: { callers: ALL, call: noArgs },
  loadTrustedBrowsersAction: { callers: ALL, call: noArgs },
  loadSessionsAction: { callers: ALL, call: noArgs },
  // A random id is no session of this test's (ids are random UUIDs): nothing may end.
  signOutSessionAction: { callers: ALL, call: () => fc.record({ before: fc.tuple(fc.oneof(argument, fc.uuid())), form: fc.constant(null) }) },
  // Security keys. Nobody here has a key and no session has confirmed: nothing these are sent can add, change or
  // remove anything (and passkey sign-in is off, so its prompt writes no challenge).
  loadSecurityKeysAction: { callers: ALL, call: noArgs },
  startAddingKeyAction: { callers: ALL, call: noArgs },
  addSecurityKeyAction: {
    callers: ALL,
    call: () => fc.record({ before: fc.tuple(fc.oneof(argument, fc.json()), fc.oneof(argument, valid.name)), form: fc.constant(null) }),
  },
  renameSecurityKeyAction: {
    callers: ALL,
    call: () => fc.record({ before: fc.tuple(fc.oneof(argument, fc.uuid()), fc.oneof(argument, valid.name)), form: fc.constant(null) }),
  },
  removeSecurityKeyAction: { callers: ALL, call: () => fc.record({ before: fc.tuple(fc.oneof(argument, fc.uuid())), form: fc.constant(null) }) },
  confirmOwnChangeAction: {
    form: true,
    callers: ALL,
    call: (_who, w) =>
      fc.record({
        before: fc.tuple(prevState),
        form: withForged(anyForm({ secret: fc.oneof(sixDigits, spacedDigits, valid.password), assertion: fc.oneof(fc.json(), fc.constant("{}")) }), ["secret", "assertion"], w),
      }),
  },
  keyConfirmationOptionsAction: { callers: ALL, call: noArgs },
  disableWithKeyAction: { callers: ALL, call: noArgs },
  checkOwnConfirmationAction: { callers: ALL, call: noArgs },
  regenerateCodesWithKeyAction: { callers: ALL, call: noArgs },
  securityKeyOptionsAction: { callers: SIGN_IN, call: noArgs },
  passkeyOptionsAction: { callers: SIGN_IN, call: noArgs },
  removeTrustedBrowsersAction: {
    // The admin owns the trusted browser: "Remove all" (null) or its id would legitimately remove it.
    callers: ALL,
    call: (who, w) =>
      fc.record({
        before: fc.tuple(who === "admin" ? fc.oneof(argument, fc.uuid()).filter((v) => v !== null) : fc.oneof(argument, fc.constant(null), fc.constant(w.ids.adminBrowser))),
        form: fc.constant(null),
      }),
  },
};

/**
 * Proof that the fuzz got past the guards it should get past: for these
 * callers, some answer must carry this message (else the cases never reached
 * the code under test — a FormData that arrived empty, say).
 */
const REACHED: Record<string, RegExp> = {
  "addUserAction as admin": /Check the highlighted fields/,
  "addUserAction as user": /You are not allowed/,
  "saveUserPropertiesAction as admin": /Check the highlighted fields/,
  "removeUserSecurityKeysAction as admin": /The request was not valid/,
  "saveSecuritySettingsAction as admin": /Check the highlighted fields/,
  "saveSecuritySettingsAction as nobody": /You are not allowed/,
  "confirmAdminAction as admin": /That did not match|Too many incorrect codes|Too many attempts/,
  "disableTwoFactorAction as user": /That code is not valid|Too many incorrect codes/,
  "regenerateRecoveryCodesAction as user": /That code is not valid|Too many incorrect codes/,
  "removeTrustedBrowsersAction as user": /Browser removed|All trusted browsers removed/,
  "changePasswordAction as user": /Your current password is not correct|Too many attempts|Enter your password|Use a password/,
};

// ---------------------------------------------------------------- checks

/**
 * Headers an attacker controls: the audit log records the IP and the browser.
 * The User-Agent stays ≤ 1 kB: Next's bot-detection regex is quadratic in its
 * length (a 16 kB one costs ~1 s of server CPU per request, see the report),
 * which would only make this test slow.
 */
const hostileHeaders = fc.record(
  {
    "x-forwarded-for": fc.constantFrom("203.0.113.9", "::1", "' OR 1=1 --", "<script>", "1.1.1.1, 2.2.2.2", "a".repeat(5000)),
    "user-agent": fc.oneof(fc.string({ unit: "grapheme-ascii", maxLength: 200 }), fc.constant("u".repeat(1000))),
  },
  { requiredKeys: [] },
);

const STACK_FRAME = /\bat [\w$.<>[\] ]+ \(?[^()\s]*:\d+:\d+\)?/;

function expectHandled(answer: Answer, w: World, label: string): void {
  expect(answer.status, `${label}: status`).toBeLessThan(500);
  expect(answer.body, `${label}: no "Internal Server Error"`).not.toContain("Internal Server Error");
  expect(answer.body, `${label}: no stack trace`).not.toMatch(STACK_FRAME);
  for (const header of ["location", "x-action-redirect"]) {
    const target = answer.headers.get(header);
    if (target) expect(new URL(target.split(";")[0], w.server.url).origin, `${label}: ${header} stays on the site`).toBe(new URL(w.server.url).origin);
  }
}

/**
 * Runs a property — the `examples` first, then `numRuns` random cases — and,
 * when it fails, records the shrunk counterexample instead of stopping: one
 * run lists every action that misbehaves.
 */
async function collect<Ts>(failures: string[], label: string, property: fc.IAsyncProperty<Ts>, numRuns: number, examples: Ts[] = []): Promise<void> {
  const details = await fc.check(property, { numRuns: numRuns + examples.length, examples });
  if (!details.failed) return;
  const why = String((details.errorInstance as Error | undefined)?.message ?? "too many skipped or interrupted runs").split("\n").filter(Boolean).slice(0, 2).join(" ");
  const example = JSON.stringify(details.counterexample, (_k, v: unknown) => (typeof v === "string" && v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : v));
  failures.push(`${why.startsWith(label) ? "" : `${label}: `}${why}\n    counterexample ${example} (seed ${details.seed}, path ${details.counterexamplePath})`);
}

/** The TOTP codes any enrolled test user could be accepted with right now (steps T−1, T, T+1). */
function liveCodes(w: World): Set<string> {
  const now = Math.floor(Date.now() / 1000);
  return new Set(w.secrets.flatMap((secret) => [-30, 0, 30].map((offset) => generateSync({ secret, epoch: now + offset }))));
}

/** True when some string in the call would, stripped of spaces, be a live code: such a case is skipped, not sent. */
function carriesLiveCode(value: unknown, live: Set<string>): boolean {
  if (typeof value === "string") return live.has(value.replace(/\s/g, ""));
  if (Array.isArray(value)) return value.some((v) => carriesLiveCode(v, live));
  if (value && typeof value === "object") return Object.values(value).some((v) => carriesLiveCode(v, live));
  return false;
}

function bodySize(body: FormData): number {
  let size = 0;
  for (const [, value] of body) size += typeof value === "string" ? Buffer.byteLength(value) : value.size;
  return size;
}

type Protected = Record<string, string[]> & { auditMaxId: string[] };

/** What hostile input must never change (see the top of the file for what may). */
async function protectedState(db: Database): Promise<Protected> {
  const q = async (query: ReturnType<typeof sql>) => (await rows<{ row: string }>(db, query)).map((r) => r.row);
  return {
    users: await q(sql`select row_to_json(x)::text as row from (select id, name, email, password_hash, role, session_version,
      two_factor_required, password_changed_at, created_at from users order by id) x`),
    totp_credentials: await q(sql`select row_to_json(x)::text as row from (select * from totp_credentials order by user_id) x`),
    recovery_codes: await q(sql`select row_to_json(x)::text as row from (select * from recovery_codes order by id) x`),
    trusted_browsers: await q(sql`select row_to_json(x)::text as row from (select * from trusted_browsers order by id) x`),
    security_keys: await q(sql`select row_to_json(x)::text as row from (select * from security_keys order by id) x`),
    instance_settings: await q(sql`select row_to_json(x)::text as row from (select * from instance_settings) x`),
    auditMaxId: await q(sql`select coalesce(max(id), 0)::text as row from audit_events`),
  };
}

async function newAuditEvents(db: Database, afterId: string): Promise<string[]> {
  const events = await rows<{ event: string; details: unknown }>(db, sql`select event, details from audit_events where id > ${Number(afterId)} order by id`);
  // A failure event is named alone; anything else with its details, so that a red test says what happened.
  return events.map((r) => (FAILURE_EVENTS.includes(r.event) ? r.event : `${r.event} ${JSON.stringify(r.details)}`));
}

/** Reads the database the safe way for the driver (PGlite: server stopped meanwhile). */
async function readDatabase<T>(w: World, work: (db: Database) => Promise<T>): Promise<T> {
  if ("databaseUrl" in w.storage) return withDatabase(w.storage, work);
  await w.server.stop();
  try {
    return await withDatabase(w.storage, work);
  } finally {
    w.server = await startServer(w.server.port, w.storage);
  }
}

// ---------------------------------------------------------------- set-up through the UI

async function cookiesOf(context: BrowserContext, url: string): Promise<string> {
  const jar = await context.cookies(url);
  return cookieHeader(jar.filter((c) => c.path === "/").map((c) => [c.name, c.value]));
}

/** Admin and user sign in and enrol in Chromium; the admin allows trusted browsers and trusts theirs. */
async function signInEveryone(browser: Browser, w: World): Promise<void> {
  const admin = await browser.newContext({ baseURL: w.server.url });
  const adminPage = await admin.newPage();
  await signIn(adminPage, ADMIN);
  const adminEnrolled = await enrollTwoFactor(adminPage);
  await adminPage.goto("/admin/settings");
  await adminPage.getByLabel("Allow users to trust the browser").check();
  await adminPage.getByRole("button", { name: "Save" }).click();
  // Allowing trusted browsers weakens sign-in: this session confirms with a current code first.
  const confirmation = adminPage.getByRole("dialog", { name: "Confirm the change" });
  const confirmed = await freshCode(adminEnrolled.secret, adminEnrolled.lastStep);
  await confirmation.getByLabel("Authentication code").fill(confirmed.code);
  await confirmation.getByRole("button", { name: "Confirm" }).click();
  await expect(adminPage.getByText("Saved.")).toBeVisible();

  const user = await browser.newContext({ baseURL: w.server.url });
  const userPage = await user.newPage();
  await signIn(userPage, USER);
  const userEnrolled = await enrollTwoFactor(userPage);

  // The admin's second sign-in, trusting this browser (its code must be of a later step than enrollment's).
  await signOut(adminPage);
  await submitPassword(adminPage, ADMIN.email, ADMIN.password);
  const { code } = await freshCode(adminEnrolled.secret, confirmed.step);
  await adminPage.getByLabel("Authentication code").fill(code);
  await adminPage.getByLabel("Trust this browser").check();
  await adminPage.getByRole("button", { name: "Verify" }).click();
  await expect(adminPage.getByRole("heading", { name: /Welcome/ })).toBeVisible();

  w.cookies.admin = await cookiesOf(admin, w.server.url);
  w.cookies.user = await cookiesOf(user, w.server.url);
  w.adminTrustToken = (await admin.cookies(w.server.url)).find((c) => c.name === "trusted-browser")!.value;
  w.secrets = [adminEnrolled.secret, userEnrolled.secret];
  for (const [who, cookie] of [["admin", w.cookies.admin], ["user", w.cookies.user]] as const) {
    const session = await request(w.server.url, "/api/auth/session", { cookie });
    w.ids[who] = (JSON.parse(session.body) as { user: { id: string } }).user.id;
  }
  await admin.close();
  await user.close();
}

/** The user's password step, as a script would do it: a live challenge for the code step. */
async function openChallenge(w: World): Promise<void> {
  const answer = await request(w.server.url, "/login/password", {
    method: "POST",
    headers: { "content-type": "application/json", origin: w.server.url },
    body: JSON.stringify({ email: USER.email, password: USER.password }),
    cookie: "",
  });
  w.challenge = cookiesFrom(answer.headers).get("signin-challenge") ?? "";
  expect(w.challenge, "the password step opened a challenge").not.toBe("");
  w.cookies.pending = `signin-challenge=${w.challenge}`;
}

// ---------------------------------------------------------------- the tests


for (const driver of DRIVERS) {
  test.describe(`hostile input on ${driver}`, () => {
    test.describe.configure({ mode: "serial", timeout: 240_000 });
    let w: World;
    let baseline: Protected;
    let cleanup = async () => {};

    test.beforeAll(async ({ browser }) => {
      const created = await createStorage(driver);
      const storage = created.storage;
      cleanup = created.remove;
      // Before the server starts: with PGlite the CLI needs the folder to itself.
      cli(storage, "create-user", "--email", ADMIN.email, "--password", ADMIN.password, "--name", ADMIN.name, "--admin");
      cli(storage, "create-user", "--email", USER.email, "--password", USER.password, "--name", USER.name);
      const server = await startServer(await freePort(), storage);
      w = {
        server,
        storage,
        cookies: { nobody: "", user: "", admin: "", pending: "" },
        secrets: [],
        ids: { admin: "", user: "", adminBrowser: "" },
        adminTrustToken: "",
        challenge: "",
      };
      // Nobody: a cookie-shaped session token gets past proxy.ts's redirect, so the action's own guard answers.
      w.cookies.nobody = "authjs.session-token=forged";
      await signInEveryone(browser, w);
      baseline = await readDatabase(w, protectedState);
      const [browserRow] = baseline.trusted_browsers.map((r) => JSON.parse(r) as { id: string; user_id: string });
      expect(browserRow?.user_id, "the admin's browser is trusted").toBe(w.ids.admin);
      w.ids.adminBrowser = browserRow.id;
    });

    test.afterAll(async () => {
      await w?.server.stop();
      await cleanup();
    });

    async function expectProtectedStateUnchanged() {
      const [after, events] = await readDatabase(w, async (db) => {
        const state = await protectedState(db);
        return [state, await newAuditEvents(db, baseline.auditMaxId[0])] as const;
      });
      const { auditMaxId: _before, ...expected } = baseline;
      const { auditMaxId: _after, ...actual } = after;
      expect(events.filter((e) => !FAILURE_EVENTS.includes(e)), "only failures were audited").toEqual([]);
      expect(actual).toEqual(expected);
    }

    test("server actions called by id with hostile arguments, forged fields and foreign ids: no server error, no change to accounts, 2FA or settings", async () => {
      const actions = serverActionsOfBuild();
      // What an attacker reads from the client bundles must be these very actions.
      for (const [name, id] of serverActionIds()) expect(actions.get(name)?.id, `${name} from the bundles`).toBe(id);
      expect([...actions.keys()].filter((name) => !ACTIONS[name]), "every server action has a fuzz spec").toEqual([]);
      await openChallenge(w);
      const logStart = w.server.log().length;
      const answers = new Map<string, string[]>();
      const failures: string[] = [];

      for (const [name, fuzz] of Object.entries(ACTIONS)) {
        const action = actions.get(name);
        expect(action, `${name} exists in the build`).toBeTruthy();
        for (const who of fuzz.callers) {
          await collect(
            failures,
            `${name} as ${who}`,
            fc.asyncProperty(fuzz.call(who, w), hostileHeaders, async ({ before, form }, headers) => {
              fc.pre(!carriesLiveCode([before, form], liveCodes(w)));
              const body = encodeArguments(before, form);
              fc.pre(bodySize(body) <= BODY_LIMIT_BYTES);
              const answer = await callAction(w.server.url, action!, body, w.cookies[who], headers);
              const label = `${name} as ${who}`;
              answers.set(label, [...(answers.get(label) ?? []), answer.body.slice(0, 2000)]);
              expectHandled(answer, w, label);
              // The request reached the action (an unknown or unreachable action would answer otherwise).
              expect(answer.headers.get("content-type"), `${label}: answered by the action`).toContain("text/x-component");
            }),
            fuzz.runs ?? RUNS,
            (fuzz.edges?.(who, w) ?? []).map((call) => [call, {}]),
          );
        }
      }
      expect(failures, "actions that mishandled hostile input").toEqual([]);
      expect(w.server.log().slice(logStart), "no unhandled error in the server log").not.toContain("⨯");
      await expectProtectedStateUnchanged();
      for (const [label, expected] of Object.entries(REACHED)) {
        const seen = answers.get(label) ?? [];
        expect(seen.some((body) => expected.test(body)), `${label} reached ${expected}; it answered e.g. ${seen.slice(0, 2).map((b) => b.slice(-300)).join(" | ")}`).toBe(true);
      }
    });

    test("route handlers (the sign-in steps and passkey sign-in; Auth.js session, csrf, credentials callback, sign-out; audit export) with hostile bodies, queries and headers: no server error, no change", async () => {
      expect(routeHandlersOfBuild().sort(), "every route handler has a fuzz spec").toEqual(["/admin/audit/export", "/api/auth/[...nextauth]", "/api/health", "/api/health/live", "/icon.svg", "/login/code", "/login/passkey", "/login/password"]);
      await openChallenge(w);
      const csrf: Partial<Record<Who, { token: string; cookie: string }>> = {};
      for (const who of SIGN_IN) {
        const answer = await request(w.server.url, "/api/auth/csrf", { cookie: w.cookies[who] });
        const set = cookiesFrom(answer.headers);
        csrf[who] = { token: (JSON.parse(answer.body) as { csrfToken: string }).csrfToken, cookie: cookieHeader([...set]) };
      }
      const withCsrf = (who: Who) => [w.cookies[who], csrf[who]!.cookie].filter(Boolean).join("; ");
      const flat = (v: FieldValue | undefined) => (v === undefined ? [] : typeof v === "string" ? [v] : Array.isArray(v) ? v : [v.file]);
      const query = (params: Form) => {
        const search = new URLSearchParams();
        for (const [k, v] of Object.entries(params)) for (const one of flat(v)) search.append(k, one.toWellFormed());
        return search.toString();
      };
      const bounded = fieldValue.filter((v) => JSON.stringify(v).length < 20_000); // URLs and headers have their own, smaller limits
      const csrfToken = (who: Who) => fc.oneof(fc.constant(csrf[who]!.token), maybe(bounded));

      /** `sent`: the values in the request, for the live-code filter. */
      type RouteCall = { label: string; target: string; init: RequestInit; sent?: unknown };
      // Auth.js reads urlencoded and JSON bodies (others: no body, refused as missing CSRF).
      const encode = (fields: Form, as: "form" | "json"): RequestInit =>
        as === "json"
          ? { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(fields) }
          : { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: query(fields) };
      const credentials = (who: Who) =>
        fc
          .record({
            csrfToken: fc.oneof({ weight: 3, arbitrary: fc.constant(csrf[who]!.token) }, maybe(bounded)),
            challenge: fc.oneof({ weight: 2, arbitrary: fc.constant(w.challenge) }, maybe(fieldValue)),
            method: fc.oneof({ weight: 3, arbitrary: fc.constantFrom("totp", "recovery", "none", "enrolled", "trusted", "security_key", "passkey") }, maybe(fieldValue)),
            code: fc.oneof(sixDigits, spacedDigits, maybe(fieldValue)),
            assertion: maybe(fc.oneof(fc.json(), bounded)),
            trust: maybe(fc.constantFrom("on", "true")),
            trustToken: fc.oneof(fc.constant(w.adminTrustToken), maybe(fieldValue)), // another user's token
            // Mostly absent: Auth.js refuses a callbackUrl that is not a URL before authorize() runs.
            callbackUrl: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, fieldValue),
          })
          .chain((fields) => forgedFields(Object.keys(fields), [w.ids.admin, w.ids.user]).map((forged) => ({ ...forged, ...fields })));
      const routeCall = (who: Who): fc.Arbitrary<RouteCall> =>
        fc.oneof(
          fc.constantFrom("session", "csrf", "providers", "signin", "signout", "callback/credentials").map((p) => ({ label: `GET ${p}`, target: `/api/auth/${p}`, init: {} })),
          fc.record({ error: bounded, callbackUrl: maybe(bounded) }).map((p) => ({ label: "GET error", target: `/api/auth/error?${query(p)}`, init: {} })),
          fc.array(bounded.filter((v) => typeof v === "string"), { minLength: 1, maxLength: 3 }).map((segments) => ({
            label: "GET unknown",
            target: `/api/auth/${(segments as string[]).map((s) => encodeURIComponent(s.toWellFormed())).join("/")}`,
            init: {},
          })),
          fc.oneof(fc.record({ csrfToken: csrfToken(who), data: argument }).map((payload) => JSON.stringify(payload)), fc.constantFrom("{", "null", "[]", '"x"', "")).map((body) => ({
            label: "POST session (update)",
            target: "/api/auth/session",
            init: { method: "POST", headers: { "content-type": "application/json" }, body },
          })),
          {
            weight: 4,
            arbitrary: fc.tuple(credentials(who), fc.constantFrom("form" as const, "json" as const)).map(([fields, as]) => ({
              label: "POST callback/credentials",
              target: "/api/auth/callback/credentials",
              init: encode(fields, as),
              sent: fields,
            })),
          },
          // With its real token a signed-in caller's sign-out ends that session for good (its row in sessions goes), and with it
          // this test's cookie: signed-in callers send hostile tokens only.
          fc.tuple(fc.record({ csrfToken: who === "user" || who === "admin" ? maybe(bounded) : csrfToken(who), callbackUrl: maybe(bounded) }), fc.constantFrom("form" as const, "json" as const)).map(([fields, as]) => ({
            label: "POST signout",
            target: "/api/auth/signout",
            init: encode(fields, as),
          })),
          {
            weight: 2,
            arbitrary: fc
              .record({ user: maybe(bounded), event: maybe(bounded), from: maybe(fc.oneof(bounded, fc.constantFrom("2024-02-30", "9999-99-99", "2024-01-01"))), to: maybe(bounded), page: maybe(fc.oneof(bounded, fc.constantFrom("0", "-1", "1e6", "99999999999"))) })
              .map((p) => ({ label: "GET audit export", target: `/admin/audit/export?${query(p)}`, init: {} })),
          },
          // The sign-in steps: hostile JSON (wrong types, huge or unicode values, forged fields), bodies that are
          // not JSON, other content types and origins. Mostly with this site's Origin, so most cases reach the step.
          {
            weight: 4,
            arbitrary: fc
              .tuple(
                fc.constantFrom("password", "code", "passkey"),
                fc.oneof(
                  { weight: 6, arbitrary: signInStepFields(w) },
                  fc.constantFrom("{", "null", "[]", '"x"', "", "[1,2]", '{"email":'),
                  fc.string({ unit: "binary", maxLength: 200 }),
                  huge.map((value) => JSON.stringify({ email: value, password: value, code: value })),
                ),
                fc.oneof(
                  { weight: 6, arbitrary: fc.constant({ "content-type": "application/json", origin: w.server.url }) },
                  fc.record({
                    "content-type": fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", ""),
                    origin: fc.constantFrom(w.server.url, "https://evil.example", "null", "", "http://localhost.evil.example", "%%%"),
                    "sec-fetch-site": fc.constantFrom("same-origin", "cross-site", "same-site", "none"),
                  }, { requiredKeys: ["content-type"] }),
                ),
              )
              .map(([step, fields, headers]) => ({
                label: `POST /login/${step}`,
                target: `/login/${step}`,
                init: { method: "POST", headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== "")), body: typeof fields === "string" ? fields : JSON.stringify(fields) },
                sent: fields,
              })),
          },
          // The health probes and the icon take no input: any method, query or body gets a plain answer.
          fc
            .tuple(fc.constantFrom("/api/health", "/api/health/live", "/icon.svg"), fc.constantFrom("GET", "POST", "PUT", "DELETE"), fc.record({ q: maybe(bounded) }), maybe(bounded))
            .map(([path, method, params, body]) => ({
              label: `${method} ${path}`,
              target: `${path}?${query(params)}`,
              init: method === "GET" ? { method } : { method, body: typeof body === "string" ? body : JSON.stringify(body ?? null) },
            })),
        );

      const signInCall = (step: "password" | "code", fields: object, origin = w.server.url): RouteCall => ({
        label: `POST /login/${step}`,
        target: `/login/${step}`,
        init: { method: "POST", headers: { "content-type": "application/json", origin }, body: JSON.stringify(fields) },
        sent: fields,
      });
      const signInEdges = (who: Who): RouteCall[] => [
        // First of all: a forged or key finish drawn later spends the live challenge (audited), and then no code is judged.
        ...(who === SIGN_IN[0] ? [wrongCodeAtCallback(who)] : []),
        signInCall("password", { email: USER.email, password: "not-the-password-1" }),
        signInCall("password", { email: USER.email, password: "not-the-password-1" }, "https://evil.example"),
        ...(who === "pending"
          ? [
              wrongCodeAtCallback(who),
              signInCall("code", { method: "totp", code: "000000" }),
              signInCall("code", { method: "recovery", code: "abcd-efgh-jkmn-pqrs" }),
            ]
          : []),
      ];
      /** Auth.js's credentials callback as the login page posts it, with a code that is surely wrong: the proof of depth below. */
      function wrongCodeAtCallback(who: Who): RouteCall {
        const live = liveCodes(w);
        const fields = { csrfToken: csrf[who]!.token, challenge: w.challenge, method: "totp", code: ["000000", "111111", "222222", "333333"].find((c) => !live.has(c))! };
        return { label: "POST callback/credentials", target: "/api/auth/callback/credentials", init: encode(fields, "form"), sent: fields };
      }

      const logStart = w.server.log().length;
      const answers: string[] = [];
      const failures: string[] = [];
      for (const who of SIGN_IN) {
        await collect(
          failures,
          `as ${who}`,
          fc.asyncProperty(routeCall(who), hostileHeaders, async ({ label, target, init, sent }, headers) => {
            fc.pre(!carriesLiveCode(sent, liveCodes(w)));
            const answer = await request(w.server.url, target, { ...init, headers: { ...(init.headers as Record<string, string>), ...headers }, cookie: withCsrf(who) });
            const excerpt = label.startsWith("POST /login/") ? ` ${answer.body.slice(0, 300)}` : "";
            answers.push(`${label} as ${who} → ${answer.status} ${answer.headers.get("content-type")} ${answer.headers.get("location")}${excerpt}`);
            expectHandled(answer, w, `${label} as ${who}`);
          }),
          RUNS * 6,
          // Fixed cases first, so that the proof of depth below does not hang on the draw.
          signInEdges(who).map((call) => [call, {}]),
        );
      }
      expect(failures, "requests that were mishandled").toEqual([]);
      // Proof of depth: authorize() took the live challenge and judged a code; the admin got a CSV.
      expect(answers.some((a) => /callback\/credentials as .*[?&]code=(code_invalid|locked_out|recovery_invalid|not_trusted)/.test(a)), "a code was judged").toBe(true);
      expect(answers.some((a) => /audit export as admin → 200 text\/csv/.test(a)), "an export was produced").toBe(true);
      expect(answers.some((a) => /POST \/login\/password as nobody → 200 .*Incorrect email or password/.test(a)), "a password was judged").toBe(true);
      // A forged finish at the credentials callback spends the pending challenge (audited): later codes then meet an expired sign-in.
      expect(answers.some((a) => /POST \/login\/code as pending → 200 .*(That code is not valid|Too many incorrect codes|Your sign-in has expired)/.test(a)), "a code reached the challenge check").toBe(true);
      expect(answers.some((a) => /POST \/login\/(password|code) as \w+ → 403 /.test(a)), "a foreign origin was refused").toBe(true);
      expect(w.server.log().slice(logStart), "no unhandled error in the server log").not.toContain("⨯");
      await expectProtectedStateUnchanged();
    });

    // After the tests that compare the database: these writes are legitimate and do change it.
    test("an admin's legitimate writes with text that passes validation but is hostile (NUL, controls, RTL, HTML, SQL, emoji) are saved or refused, never a server error", async () => {
      const actions = serverActionsOfBuild();
      const failures: string[] = [];
      const hostileName = fc.oneof(
        fc.constantFrom("\u0000", "Ada\u0000", "\u0007bell\u001b[2J", "\u202Eevil", "<img src=x onerror=alert(1)>", "'; DROP TABLE users; --", "🙂".repeat(25), "n".repeat(100)),
        nasty,
        fc.string({ unit: "binary", minLength: 1, maxLength: 100 }),
        fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 100 }),
      );
      let n = 0;
      const logStart = w.server.log().length;
      await collect(
        failures,
        "addUserAction as admin",
        fc.asyncProperty(hostileName, async (name) => {
          const form = { name, email: `hostile-${n++}-${Date.now()}@example.com`, password: "hazel orbit tractor 88" };
          const answer = await callAction(w.server.url, actions.get("addUserAction")!, encodeArguments([{ status: "idle" }], form), w.cookies.admin);
          expectHandled(answer, w, "addUserAction as admin");
        }),
        RUNS * 2,
      );
      await collect(
        failures,
        "saveUserPropertiesAction as admin",
        fc.asyncProperty(hostileName, async (name) => {
          // The user keeps email, role and 2FA: not a sensitive change, so no step-up is asked.
          const form = { name, email: USER.email, twoFactorEnabled: "on" };
          const answer = await callAction(w.server.url, actions.get("saveUserPropertiesAction")!, encodeArguments([w.ids.user, { status: "idle" }], form), w.cookies.admin);
          expectHandled(answer, w, "saveUserPropertiesAction as admin");
        }),
        RUNS * 2,
      );
      expect(failures, "writes that answered a server error").toEqual([]);
      expect(w.server.log().slice(logStart), "no unhandled error in the server log").not.toContain("⨯");
    });

    test("form actions called without their FormData (left out, or a number, null, a string in its place) answer without a server error", async () => {
      // React's client always sends the FormData; a script need not. Each action checks what it got
      // (`formData instanceof FormData`): formData.get on anything else would throw, a 500.
      const actions = serverActionsOfBuild();
      await openChallenge(w);
      const failures: string[] = [];
      for (const [name, fuzz] of Object.entries(ACTIONS)) {
        if (!fuzz.form) continue;
        for (const who of fuzz.callers) {
          await collect(
            failures,
            `${name} as ${who}`,
            fc.asyncProperty(fuzz.call(who, w).map((call) => call.before), fc.option(argument, { nil: undefined }), async (before, replacement) => {
              const args = replacement === undefined ? before : [...before, replacement];
              const answer = await callAction(w.server.url, actions.get(name)!, encodeArguments(args, null), w.cookies[who]);
              expectHandled(answer, w, `${name} as ${who} without its FormData`);
            }),
            4,
          );
        }
      }
      expect(failures, "actions that answered a server error").toEqual([]);
    });
  });
}
