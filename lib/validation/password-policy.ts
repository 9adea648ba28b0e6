import { passwordContainsMessage, passwordLengthMessage } from "./messages";

/**
 * The rules for a new or changed password (NIST SP 800-63B-4 §3.1.1.2): a
 * length, a blocklist of common and context-specific passwords, no
 * composition rules. Passwords already stored are never judged again: sign-in
 * only checks them. This module is light (client forms may import it); the
 * dictionaries sit in ./password-strength, loaded only when a password is judged.
 */

/** §3.1.1.2: 15 when the password may be the only factor. */
export const DEFAULT_PASSWORD_MIN_LENGTH = 15;
/** PASSWORD_MIN_LENGTH may lower it to 8, for instances that make everyone use a second factor. */
export const PASSWORD_MIN_LENGTH_RANGE = { min: 8, max: 64 } as const;
/** §3.1.1.2 asks for at least 64; the bound keeps hashing and judging cheap. */
export const PASSWORD_MAX_LENGTH = 128;
/** zxcvbn's scale: 0–2 fall to an online or throttled guessing attack of modest size. */
export const PASSWORD_MIN_SCORE = 3;

/** The product's own name (lib/two-factor/totp.ts TOTP_ISSUER, lib/env.ts DEFAULT_MAIL_FROM), which users reach for first. */
const PRODUCT_WORDS = ["Two-factor sign-in", "twofactor"];

/** The product's words, and the instance's own name in authenticator apps when TOTP_ISSUER renames it (server side). */
function productWords(env: NodeJS.ProcessEnv = process.env): string[] {
  const issuer = env.TOTP_ISSUER?.trim();
  return issuer ? [...PRODUCT_WORDS, issuer] : PRODUCT_WORDS;
}
/** Words a service's password is guessed from (§3.1.1.2 "context-specific words"). */
const SERVICE_WORDS = ["password"];
/** Shorter name parts ("Al", "Bo") would refuse too many good passwords. */
const MIN_CONTEXT_WORD_LENGTH = 3;

/** Whose password it is: "your" when the person sets their own, "the user's" when an administrator does. */
export type PasswordContext = { name?: unknown; email?: unknown; whose: "your" | "the user's" };

/** PASSWORD_MIN_LENGTH, or 15; a malformed value falls back to 15 (the start-up check names it). */
export function passwordMinLength(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.PASSWORD_MIN_LENGTH?.trim();
  if (!value || !isPasswordMinLength(value)) return DEFAULT_PASSWORD_MIN_LENGTH;
  return Number(value);
}

export function isPasswordMinLength(value: string): boolean {
  return /^\d{1,3}$/.test(value) && Number(value) >= PASSWORD_MIN_LENGTH_RANGE.min && Number(value) <= PASSWORD_MIN_LENGTH_RANGE.max;
}

/** Length in Unicode code points, as §3.1.1.2 counts it (an emoji is one character, not two). */
export function passwordLength(password: string): number {
  return [...password].length;
}

export function passwordLengthProblem(password: string, minLength: number): string | null {
  // More UTF-16 units than two per code point is too long whatever it holds: not counted, however large.
  const length = password.length > PASSWORD_MAX_LENGTH * 2 ? Infinity : passwordLength(password);
  return length < minLength || length > PASSWORD_MAX_LENGTH ? passwordLengthMessage(minLength, PASSWORD_MAX_LENGTH) : null;
}

/** Letters and digits only, lower case, so "Alice.Smith", "alice smith" and "ALICESMITH" are one word. */
function fold(text: string): string {
  return text.normalize("NFKC").toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
}

/** The context words of a password, by what the refusal should name. */
export function contextWords(context: PasswordContext): { email: string[]; name: string[]; product: string[] } {
  const email = typeof context.email === "string" ? context.email.trim() : "";
  const name = typeof context.name === "string" ? context.name.trim() : "";
  const local = email.includes("@") ? email.slice(0, email.lastIndexOf("@")) : email;
  return {
    email: [email, local].filter(Boolean),
    name: [name, ...name.split(/[\s\-'.]+/)].filter(Boolean),
    product: [...productWords(), ...SERVICE_WORDS],
  };
}

/**
 * A password that contains the person's email (or its part before @) or their
 * name is refused, whatever its score: an attacker who targets this account
 * tries those first.
 */
export function personalWordProblem(password: string, context: PasswordContext): string | null {
  const words = contextWords(context);
  if (containsAny(password, words.email)) return passwordContainsMessage(`${context.whose} email address`);
  if (containsAny(password, words.name)) return passwordContainsMessage(`${context.whose} name`);
  return null;
}

/** The product's name or "password" in a password: refused too (checked after the common lists, whose message says more). */
export function serviceWordProblem(password: string): string | null {
  const word = [...productWords(), ...SERVICE_WORDS].find((candidate) => containsAny(password, [candidate]));
  return word ? passwordContainsMessage(`“${word}”`) : null;
}

function containsAny(password: string, words: string[]): boolean {
  const folded = fold(password);
  return words.map(fold).some((word) => word.length >= MIN_CONTEXT_WORD_LENGTH && folded.includes(word));
}

/**
 * Everything wrong with a new password, as the one message to show, or null.
 * The server's check: the strength meter in the browser is only a guide.
 */
export async function newPasswordProblem(password: string, context: PasswordContext, minLength = passwordMinLength()): Promise<string | null> {
  const problem = passwordLengthProblem(password, minLength);
  if (problem) return problem;
  const { judgePasswordStrength } = await import("./password-strength");
  return judgePasswordStrength(password, context).problem;
}
