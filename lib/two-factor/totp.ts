import "server-only";
import { generateSecret, generateURI, verifySync } from "otplib";

/** RFC 6238 defaults that every authenticator app understands: HMAC-SHA-1, 6 digits, 30 s. */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** 160-bit secret, RFC 4226 §4 R6 recommendation. */
export const TOTP_SECRET_BYTES = 20;
export const TOTP_ISSUER = process.env.TOTP_ISSUER || "Two-factor sign-in";

export function newTotpSecret(): string {
  return generateSecret({ length: TOTP_SECRET_BYTES });
}

export function totpUri(secret: string, accountName: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label: accountName, secret });
}

export type TotpCheck =
  | { result: "valid"; timeStep: number }
  | { result: "replayed"; timeStep: number }
  | { result: "invalid" };

/**
 * Checks a 6-digit code against steps T and T−1 only (RFC 6238 §5.2: at most one
 * step of delay; no future step). A code whose step is not after
 * `lastUsedStep` is a replay. The caller must still consume the step with a
 * compare-and-set, because two requests may both get "valid" here.
 *
 * @param code six ASCII digits (validated by the caller's schema)
 * @param nowSeconds Unix time in seconds
 */
export function checkTotpCode(secret: string, code: string, lastUsedStep: number | null, nowSeconds: number): TotpCheck {
  if (!/^[0-9]{6}$/.test(code)) return { result: "invalid" }; // otplib throws on anything else
  const verdict = verifySync({ secret, token: code, epoch: nowSeconds, epochTolerance: [TOTP_PERIOD_SECONDS, 0] });
  if (!verdict.valid || !("timeStep" in verdict)) return { result: "invalid" };
  if (lastUsedStep !== null && verdict.timeStep <= lastUsedStep) return { result: "replayed", timeStep: verdict.timeStep };
  return { result: "valid", timeStep: verdict.timeStep };
}
