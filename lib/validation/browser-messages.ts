/**
 * The messages the browser's own script can show (an unreachable server, the
 * security key's prompt, a step it cannot start): part of MESSAGES, kept here
 * so that the sign-in page's script carries these few and not the whole
 * catalogue (~1.3 KiB gzip of the page's own JavaScript).
 */
export const BROWSER_MESSAGES = {
  challengeExpired: "Your sign-in has expired. Please sign in again.",
  securityKeyCancelled: "The security key did not answer: the prompt was closed or timed out. Try again.",
  securityKeyAlreadyAdded: "This security key is already added to your account.",
  securityKeyUnsupported: "This browser cannot use security keys here. Use another browser, or your authentication code.",
  securityKeyFailed: "The security key could not be used. Try again.",
  noSecurityKeys: "There is no security key on this account. Use your authentication code.",
  unreachable: "The server could not be reached. Check your connection and try again.",
} as const;
