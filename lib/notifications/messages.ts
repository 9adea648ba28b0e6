import "server-only";
import { describeBrowser } from "@/lib/two-factor/trusted-browsers";
import type { Mail } from "./transport";

/** A change that weakens sign-in for others: told to every administrator. */
export type AdministratorNotice = { kind: "instance_two_factor_off" } | { kind: "administrator_added"; name: string; email: string };

/** The administrator who made a change, by name; null: the server's command line. */
type By = { by: string | null };

/** What happened to the account's second factor (one mail each), or to the instance (`by`: the administrator's name). */
export type Notice =
  | { kind: "two_factor_enabled" }
  | { kind: "two_factor_disabled" }
  | { kind: "two_factor_removed"; by: "admin" | "cli" }
  | { kind: "recovery_codes_regenerated" }
  | { kind: "recovery_code_used"; codesLeft: number }
  | { kind: "code_refused"; locked: boolean }
  | { kind: "browser_trusted"; days: number }
  | { kind: "password_changed" }
  | { kind: "security_key_added"; name: string }
  /** `by` absent: the owner in My Settings; an administrator's name: removed in User properties. */
  | ({ kind: "security_key_removed"; name: string } & Partial<By>)
  | ({ kind: "email_changed"; to: string } & By)
  | ({ kind: "role_changed"; admin: boolean } & By)
  | (AdministratorNotice & By);
export type NoticeKind = Notice["kind"];

/** When and from where (the request that made the change; for the CLI, the server itself). */
export type Occurrence = { at: Date; ip: string | null; userAgent: string | null };

/** What the CLI records as its request (scripts/cli.ts): no address, and "cli" for a browser. */
export const COMMAND_LINE = { ip: null, userAgent: "cli" } as const;
const isCommandLine = (occurrence: Occurrence) => occurrence.ip === null && occurrence.userAgent === COMMAND_LINE.userAgent;

// Fixed strings: nothing from the database or the request ever reaches a header.
export const SUBJECTS: Record<NoticeKind, string> = {
  two_factor_enabled: "Two-factor authentication was turned on",
  two_factor_disabled: "Two-factor authentication was turned off",
  two_factor_removed: "Two-factor authentication was removed by an administrator",
  recovery_codes_regenerated: "New recovery codes were generated",
  recovery_code_used: "A recovery code was used to sign in",
  code_refused: "A wrong sign-in code was refused",
  browser_trusted: "A new browser is trusted for sign-in",
  instance_two_factor_off: "Two-factor login was turned off for everyone",
  administrator_added: "A new administrator was added",
  password_changed: "Your password was changed",
  security_key_added: "A security key was added to your account",
  security_key_removed: "A security key was removed from your account",
  email_changed: "The email address of your account was changed",
  role_changed: "Your administrator role was changed",
};

/** Who acted, as a mail names them. */
function actor({ by }: By): string {
  return by === null ? "An administrator on the server's command line" : `The administrator ${plainLine(by, 100)}`;
}

/** Recovery codes left at or below this: the mail asks for a new set. */
const FEW_CODES_LEFT = 3;
const NOT_YOU_CHANGE_PASSWORD = "Change your password now (My Settings → Password) and tell your administrator.";
const SESSION_MAY_BE_STOLEN =
  "have the administrator named above change their password and sign out everywhere: their session may be in someone else's hands.";

/** The mail for one notice: what happened, when, where from, and what to do. Never a code, key, token or link. */
export function buildMail(notice: Notice, name: string, occurrence: Occurrence): Mail {
  const [happened, ifNotYou] = explain(notice);
  const text = [
    `Hello ${plainLine(name, 100)},`,
    "",
    ...happened,
    "",
    `When:    ${utc(occurrence.at)}`,
    ...where(occurrence),
    "",
    "If this was you, there is nothing to do.",
    `If it was not you: ${ifNotYou}`,
    "",
    "-- ",
    "An automatic security notice from your two-factor sign-in. It never contains codes or links.",
  ].join("\n");
  return { subject: SUBJECTS[notice.kind], text: `${text}\n` };
}

function explain(notice: Notice): [string[], string] {
  switch (notice.kind) {
    case "two_factor_enabled":
      return [
        ["Two-factor authentication was turned on for your account. Signing in now needs a code from the authenticator app that was set up."],
        "someone who knows your password has added their own authenticator. Contact your administrator now to have it removed, then change your password.",
      ];
    case "two_factor_disabled":
      return [
        ["Two-factor authentication was turned off for your account. Signing in now needs only your password."],
        `someone has access to your account. ${NOT_YOU_CHANGE_PASSWORD} Then turn two-factor authentication on again in My Settings.`,
      ];
    case "two_factor_removed":
      return [
        [
          notice.by === "cli"
            ? "An administrator removed two-factor authentication from your account, on the server's command line."
            : "An administrator removed two-factor authentication from your account.",
          "Your authenticator app, your recovery codes, your security keys and your trusted browsers no longer work, and you were signed out everywhere.",
          "Sign in with your password, then turn two-factor authentication on again in My Settings.",
        ],
        "if you did not ask for this, contact your administrator.",
      ];
    case "recovery_codes_regenerated":
      return [
        ["New recovery codes were generated for your account. The previous codes no longer work."],
        `someone has access to your account and to your authenticator. ${NOT_YOU_CHANGE_PASSWORD}`,
      ];
    case "recovery_code_used":
      return [recoveryCodeUsed(notice.codesLeft), `someone has your password and one of your recovery codes. ${NOT_YOU_CHANGE_PASSWORD} Then generate new recovery codes.`];
    case "code_refused":
      return [
        [
          "Your password was entered correctly at sign-in, but the two-factor code that followed was wrong, and it was refused: nobody was signed in with it.",
          ...(notice.locked ? ["After several wrong codes, the code step of your account is now locked for a while."] : []),
          "You get at most one of these notices an hour, however many codes are refused.",
        ],
        `someone knows your password; your second factor stopped them. ${NOT_YOU_CHANGE_PASSWORD}`,
      ];
    case "browser_trusted":
      return [
        [`A browser was marked as trusted at sign-in: for up to ${notice.days} ${notice.days === 1 ? "day" : "days"} it may sign in to your account with the password alone.`],
        `${NOT_YOU_CHANGE_PASSWORD} Changing it also ends the trust of every browser.`,
      ];
    case "password_changed":
      return [
        [
          "The password of your account was changed in My Settings.",
          "Every other session of your account was signed out, and no browser is trusted any more.",
        ],
        "someone had your password and your second factor, or a signed-in browser of yours. Contact your administrator now: they can lock the account and reset its two-factor authentication.",
      ];
    case "security_key_added":
      return [
        [`A security key named "${plainLine(notice.name, 60)}" was added to your account in My Settings. It can now stand in for the code from your authenticator app at sign-in.`],
        "someone has your password and your second factor, or a signed-in browser of yours. Contact your administrator now to have the key removed, then change your password.",
      ];
    case "security_key_removed":
      if (notice.by !== undefined) {
        return [
          [`${actor({ by: notice.by })} removed the security key named "${plainLine(notice.name, 60)}" from your account. It no longer signs in.`],
          "contact your administrator: an administrator's session may be in someone else's hands.",
        ];
      }
      return [
        [`The security key named "${plainLine(notice.name, 60)}" was removed from your account in My Settings. It no longer signs in.`],
        `someone has access to your account. ${NOT_YOU_CHANGE_PASSWORD}`,
      ];
    case "email_changed":
      return [
        [
          `${actor(notice)} changed the email address of your account to ${plainLine(notice.to, 254)}.`,
          "You sign in with the new address from now on, and security notices go there; this is the last one sent to this address.",
        ],
        "contact your administrator now: whoever has the new address may be about to take over your account.",
      ];
    case "role_changed":
      return [
        notice.admin
          ? [`${actor(notice)} made you an administrator.`, "You can now change every account and the instance's security settings."]
          : [`${actor(notice)} took away your administrator role.`, "You can still sign in and use your account; Administration is no longer open to you."],
        "contact your administrator: an administrator's session may be in someone else's hands.",
      ];
    case "instance_two_factor_off":
      return [
        [
          `${actor(notice)} turned two-factor login off for the whole instance.`,
          "Signing in now needs only a password, for every user, until an administrator turns it on again.",
        ],
        `if nobody meant to, turn Enable two factor user login on again in Administration → Settings, and ${SESSION_MAY_BE_STOLEN}`,
      ];
    case "administrator_added":
      return [
        [
          `${actor(notice)} made ${plainLine(notice.name, 100)} (${plainLine(notice.email, 254)}) an administrator.`,
          "Administrators can change every account and the instance's security settings.",
        ],
        `if nobody meant to, untick Administrator for that user in Administration → Users, and ${SESSION_MAY_BE_STOLEN}`,
      ];
  }
}

function recoveryCodeUsed(left: number): string[] {
  const count = left === 1 ? "1 recovery code" : `${left} recovery codes`;
  return [
    "A recovery code was used to sign in to your account. That code no longer works, and no browser is trusted any more.",
    `You have ${count} left.${left <= FEW_CODES_LEFT ? " Generate a new set in My Settings → Recovery codes." : ""}`,
  ];
}

function where(occurrence: Occurrence): string[] {
  if (isCommandLine(occurrence)) return ["From:    the server itself (command line)"];
  return [`IP:      ${plainLine(occurrence.ip ?? "unknown", 64)}`, `Browser: ${describeBrowser(occurrence.userAgent)}`];
}

/** "2026-11-29 23:16:53 UTC": no time zone or date order to guess. */
export function utc(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** One line of at most `max` characters: control and line-separator characters become spaces. */
export function plainLine(value: string, max: number): string {
  return value.slice(0, max).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
}
