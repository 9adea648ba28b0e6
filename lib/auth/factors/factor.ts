import "server-only";
import type { Database, Transaction } from "@/db";
import type { InstanceSettings, signInChallenges, totpCredentials, users } from "@/db/schema";
import type { AuditEvent, RequestContext } from "@/lib/audit";
import type { SecondStepError, SecondStepInput } from "@/lib/auth/second-step";
import { requirementOf, type SignInRequirement } from "@/lib/auth/sign-in";

/** A live challenge, its user and what the second step needs to judge the proof sent with it. */
export type Attempt = {
  db: Database;
  input: SecondStepInput;
  challenge: typeof signInChallenges.$inferSelect;
  user: typeof users.$inferSelect;
  credential: typeof totpCredentials.$inferSelect | null;
  /** The user has at least one security key. */
  hasKey: boolean;
  settings: InstanceSettings;
  context: RequestContext;
};

/** A proof refused: what the browser is told, and what the audit log records. */
export type Refusal = { error: SecondStepError; event: AuditEvent };

/** What the factor's part of the finishing transaction left for the browser. */
export type Consumed = { trustToken?: string };

/**
 * The proof satisfies the challenge. `factor` is audited with the sign-in.
 * What it uses up is consumed in the finishing transaction, with the challenge:
 * either `consume` (null when it finds nothing to use: a parallel request
 * took it first, or a recovery code matches no unused one), or a TOTP
 * `timeStep` moved forward by the one-statement finish. `lost` is the refusal
 * then; `afterCommit` runs once the session is granted.
 */
export type Accepted = {
  ok: true;
  factor: string;
  consume?: (tx: Transaction) => Promise<Consumed | null>;
  timeStep?: number;
  lost?: Refusal;
  afterCommit?: () => Promise<void>;
};

/**
 * One way to finish the second step. `qualifies`: may this challenge finish
 * this way for this user at all (never a question the proof answers)?
 * `verify`: does the proof satisfy it? A guessable factor's attempt is
 * reserved in the shared lockout before `verify` judges it.
 */
export type Factor = {
  guessable: boolean;
  qualifies(attempt: Attempt): boolean;
  verify(attempt: Attempt): Promise<Accepted | ({ ok: false } & Refusal)>;
};

/** What the user owes after the password now (lib/auth/sign-in.ts), read with the challenge. */
export function requirementFor({ user, credential, hasKey, settings }: Attempt): SignInRequirement {
  return requirementOf(settings, { factors: { totp: !!credential?.enabledAt, keys: hasKey }, required: user.twoFactorRequired, role: user.role });
}

/** The user has a confirmed second factor that the instance asks for: only a factor's proof finishes. */
export const owesSecondFactor = (attempt: Attempt): boolean => requirementFor(attempt) === "code";
