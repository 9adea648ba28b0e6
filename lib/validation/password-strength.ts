import { ZxcvbnFactory, type ZxcvbnResult } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";
import { MESSAGES } from "./messages";
import { contextWords, PASSWORD_MIN_SCORE, personalWordProblem, serviceWordProblem, type PasswordContext } from "./password-policy";

/**
 * zxcvbn with its common-password dictionaries (~400 KB): import this module
 * only with `await import()`, where a new password is judged, so that no page
 * without a new-password field (/login) and no request that sets none loads it.
 */

/** zxcvbn's time grows with length (a 128-character repeat took ~0.5 s); the first 64 characters bound the score from below. */
const JUDGED_LENGTH = 64;

let factory: ZxcvbnFactory | null = null;

function zxcvbn(): ZxcvbnFactory {
  // Levenshtein matching stays off: it made a check ~10× slower and common passwords are caught without it.
  factory ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs, maxLength: JUDGED_LENGTH });
  return factory;
}

export type PasswordStrength = {
  /** zxcvbn's 0 (guessed at once) to 4 (out of reach); below PASSWORD_MIN_SCORE is refused. */
  score: 0 | 1 | 2 | 3 | 4;
  /** Why the password is refused, as the field's message; null when it is good enough. */
  problem: string | null;
};

/**
 * The blocklist and the score of a password of the right length: what the
 * server enforces and the meter shows. The most telling reason comes first:
 * the person's own email or name, then a common or guessable password, then
 * the product's name or "password" in an otherwise strong one.
 */
export function judgePasswordStrength(password: string, context: PasswordContext): PasswordStrength {
  const words = contextWords(context);
  // The context words also go to zxcvbn, which finds them reversed or in l33t ("3cila").
  const result = zxcvbn().check(password, [...words.email, ...words.name, ...words.product]);
  const problem =
    personalWordProblem(password, context) ?? (result.score < PASSWORD_MIN_SCORE ? weakness(result) : null) ?? serviceWordProblem(password);
  return { score: problem ? Math.min(result.score, PASSWORD_MIN_SCORE - 1) as PasswordStrength["score"] : result.score, problem };
}

/** "Too common" when a common-password list is what found it, else "too easy to guess" (patterns, repeats, dates). */
function weakness(result: ZxcvbnResult): string {
  const common = result.sequence.some((match) => match.pattern === "dictionary");
  return common ? MESSAGES.passwordTooCommon : MESSAGES.passwordTooGuessable;
}
