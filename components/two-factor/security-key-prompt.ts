import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/browser";
import { BROWSER_MESSAGES } from "@/lib/validation/browser-messages";

/** What the browser's prompt gave: the authenticator's answer as JSON text, or the message to show. */
export type KeyAnswer = { ok: true; answer: string; attachment: string | null } | { ok: false; message: string };

/**
 * The browser's WebAuthn prompt ("Use security key", "Add security key").
 * @simplewebauthn/browser is loaded when the prompt is asked for, not with
 * the page: most sign-ins never need it.
 */
export async function askKeyToSign(optionsJSON: PublicKeyCredentialRequestOptionsJSON): Promise<KeyAnswer> {
  try {
    const { startAuthentication } = await import("@simplewebauthn/browser");
    const answer = await startAuthentication({ optionsJSON });
    return { ok: true, answer: JSON.stringify(answer), attachment: answer.authenticatorAttachment ?? null };
  } catch (error) {
    return { ok: false, message: promptFailure(error) };
  }
}

export async function askKeyToRegister(optionsJSON: PublicKeyCredentialCreationOptionsJSON): Promise<KeyAnswer> {
  try {
    const { startRegistration } = await import("@simplewebauthn/browser");
    const answer = await startRegistration({ optionsJSON });
    return { ok: true, answer: JSON.stringify(answer), attachment: answer.authenticatorAttachment ?? null };
  } catch (error) {
    return { ok: false, message: promptFailure(error) };
  }
}

/** The browser's reason, in words: the spec's error names (WebAuthn L3 §5.1.3, §5.1.4) and the library's codes. */
function promptFailure(error: unknown): string {
  const { name, code } = (error ?? {}) as { name?: string; code?: string };
  if (code === "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED" || name === "InvalidStateError") return BROWSER_MESSAGES.securityKeyAlreadyAdded;
  // The user closed the prompt, it timed out, or no allowed key was touched: the browser does not say which, on purpose.
  if (name === "NotAllowedError" || name === "AbortError") return BROWSER_MESSAGES.securityKeyCancelled;
  if (name === "SecurityError" || name === "NotSupportedError" || (error instanceof Error && /does not support WebAuthn/i.test(error.message))) {
    return BROWSER_MESSAGES.securityKeyUnsupported;
  }
  return BROWSER_MESSAGES.securityKeyFailed;
}
