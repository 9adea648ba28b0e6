/**
 * Every message a user can see, in one place: actions return these, tests
 * assert against the same constants.
 */
export const MESSAGES = {
  signInFailed: "Incorrect email or password.",
  signInRateLimited: "Incorrect email or password.", // deliberately the same: no account or lock oracle
  challengeExpired: "Your sign-in has expired. Please sign in again.",
  codeInvalid: "That code is not valid. Check your authenticator app and try again.",
  codeFormat: "Enter the 6-digit code from your authenticator app.",
  recoveryCodeInvalid: "That recovery code is not valid or has already been used.",
  recoveryCodeFormat: "Enter one of your recovery codes, for example abcd-efgh-jkmn-pqrs.",
  lockedOut: "Too many incorrect codes. Try again later.",
  emailFormat: "Enter a valid email address.",
  emailTaken: "A user with this email already exists.",
  nameRequired: "Enter a name.",
  nameInvalid: "Enter a name without control characters.",
  passwordRequired: "Enter your password.",
  passwordLength: "Use a password of 8 to 128 characters.",
  setupTokenInvalid: "This setup link is not valid or has already been used.",
  twoFactorOff: "Two-factor authentication is turned off for this instance.",
  twoFactorAlreadyOn: "Two-factor authentication is already enabled.",
  twoFactorNotOn: "Two-factor authentication is not enabled.",
  enrollmentExpired: "This setup has expired. Start again.",
  notAllowed: "You are not allowed to do that.",
  invalidRequest: "The request was not valid.",
  unreachable: "The server could not be reached. Check your connection and try again.",
  saved: "Saved.",
  userNotFound: "This user no longer exists.",
  lastAdmin: "This is the last administrator: make someone else an administrator first.",
  confirmationRequired: "Enter your authentication code or password to confirm.",
  confirmationFailed: "That did not match. Try again.",
  currentPasswordWrong: "Your current password is not correct.",
  tooManyAttempts: "Too many attempts. Try again later.",
  passwordChanged: "Password changed. You were signed out everywhere else.",
} as const;

export type Message = (typeof MESSAGES)[keyof typeof MESSAGES];

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
