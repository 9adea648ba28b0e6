import { BROWSER_MESSAGES } from "./browser-messages";

/**
 * Every message a user can see, in one place: actions return these, tests
 * assert against the same constants.
 */
export const MESSAGES = {
  ...BROWSER_MESSAGES,
  signInFailed: "Incorrect email or password.",
  signInRateLimited: "Incorrect email or password.", // deliberately the same: no account or lock oracle
  codeInvalid: "That code is not valid. Check your authenticator app and try again.",
  codeFormat: "Enter the 6-digit code from your authenticator app.",
  recoveryCodeInvalid: "That recovery code is not valid or has already been used.",
  securityKeyInvalid: "That security key was not accepted. Try again, or use another way to sign in.",
  securityKeyName: "Enter a name of up to 64 characters.",
  securityKeyGone: "That security key had already been removed.",
  securityKeyAdded: "Security key added.",
  securityKeyRemoved: "Security key removed.",
  securityKeyRenamed: "Security key renamed.",
  passkeyInvalid: "That passkey was not accepted. Try again, or sign in with your email and password.",
  notAPasskey: "This security key cannot sign in on its own. Sign in with your email and password, then use the key.",
  passkeyOff: "Sign-in with a passkey is not allowed on this instance.",
  ownKeyFirst: "Add a security key to your own account first (My Settings → Security keys): without one you would lose Administration.",
  confirmationLapsed: "Your confirmation has expired. Cancel and start again.",
  lastKeyRemoved: "Security key removed. It was your only second factor: two-factor authentication is off.",
  userLastFactorRemoved: "That was this user's only second factor: two-factor authentication is off for them.",
  recoveryCodeFormat: "Enter one of your recovery codes, for example abcd-efgh-jkmn-pqrs-tvwx-yz01.",
  lockedOut: "Too many incorrect codes. Try again later.",
  emailFormat: "Enter a valid email address.",
  emailTaken: "A user with this email already exists.",
  nameRequired: "Enter a name.",
  nameInvalid: "Enter a name without control characters.",
  passwordRequired: "Enter your password.",
  passwordTooCommon: "This password is too common: attackers try passwords like it first. Add a few unrelated words.",
  passwordTooGuessable: "This password is too easy to guess. Make it longer, or try three or four unrelated words.",
  setupTokenInvalid: "This setup link is not valid or has already been used.",
  twoFactorOff: "Two-factor authentication is turned off for this instance.",
  twoFactorAlreadyOn: "Two-factor authentication is already enabled.",
  twoFactorNotOn: "Two-factor authentication is not enabled.",
  enrollmentExpired: "This setup has expired. Start again.",
  notAllowed: "You are not allowed to do that.",
  invalidRequest: "The request was not valid.",
  saved: "Saved.",
  userNotFound: "This user no longer exists.",
  lastAdmin: "This is the last administrator: make someone else an administrator first.",
  confirmationRequired: "Enter your authentication code or password to confirm.",
  confirmationFailed: "That did not match. Try again.",
  currentPasswordWrong: "Your current password is not correct.",
  tooManyAttempts: "Too many attempts. Try again later.",
  passwordChanged: "Password changed. You were signed out everywhere else.",
  sessionSignedOut: "Session signed out.",
  sessionGone: "That session had already ended.",
} as const;

export type Message = (typeof MESSAGES)[keyof typeof MESSAGES];

/** The length rule, with this instance's minimum (PASSWORD_MIN_LENGTH). */
export function passwordLengthMessage(minLength: number, maxLength: number): string {
  return `Use a password of ${minLength} to ${maxLength} characters.`;
}

/** `what`: "your email address", "the user's name", "“password”"… */
export function passwordContainsMessage(what: string): string {
  return `This password contains ${what}. Choose one without it.`;
}

/** What every form action returns. Never carries a secret other than what the step is there to show. */
export type FormState =
  | { status: "idle" }
  | { status: "error"; message: string; fieldErrors?: Record<string, string[] | undefined> }
  | { status: "success"; message?: string };

export const IDLE: FormState = { status: "idle" };

/**
 * What a form action answers when its form is not a form: called by hand
 * (by id) with another argument, it must refuse, not throw.
 */
export const INVALID_REQUEST = { status: "error", message: MESSAGES.invalidRequest } as const;
