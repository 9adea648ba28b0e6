import "server-only";
import { notifyBrowserTrusted } from "@/lib/notifications/notify";
import { consumeTimeStep } from "@/lib/two-factor/time-step";
import { checkTotpCode } from "@/lib/two-factor/totp";
import { readTotpSecret } from "@/lib/two-factor/totp-secret";
import { trustBrowser } from "@/lib/two-factor/trusted-browsers";
import { owesSecondFactor, type Factor, type Refusal } from "./factor";

const INVALID: Refusal = { error: "code_invalid", event: "sign_in.code_failed" };
// Also when a parallel request with the same code won the time step's compare-and-set.
const REPLAYED: Refusal = { error: "code_invalid", event: "sign_in.code_replayed" };

/**
 * A code from the authenticator app: steps T and T−1 (lib/two-factor/totp.ts),
 * each used once. Without "Trust this browser" the time step moves forward in
 * the one-statement finish; with it (and the instance allowing it) the
 * finishing transaction also issues the trust token.
 */
export const totp: Factor = {
  guessable: true,
  // A second factor is owed, and it is (or includes) the app: a user with only security keys has no secret to judge.
  qualifies: (attempt) => owesSecondFactor(attempt) && !!attempt.credential?.enabledAt,
  async verify({ db, input, user, credential, settings, context }) {
    const secret = readTotpSecret(credential!.secretCiphertext, user.id);
    if (secret === null) return { ok: false, ...INVALID };
    const check = checkTotpCode(secret, input.code, credential!.lastUsedStep, Math.floor(Date.now() / 1000));
    if (check.result === "invalid") return { ok: false, ...INVALID };
    if (check.result === "replayed") return { ok: false, ...REPLAYED };
    if (!input.trust || !settings.trustBrowserEnabled) return { ok: true, factor: "totp", timeStep: check.timeStep, lost: REPLAYED };
    return {
      ok: true,
      factor: "totp",
      lost: REPLAYED,
      async consume(tx) {
        if (!(await consumeTimeStep(tx, user.id, check.timeStep))) return null;
        return { trustToken: await trustBrowser(tx, user.id, settings.trustBrowserDays, context) };
      },
      afterCommit: () => notifyBrowserTrusted(db, user, context, settings.trustBrowserDays),
    };
  },
};
