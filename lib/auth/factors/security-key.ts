import "server-only";
import { recordEvent } from "@/lib/audit";
import { sha256Hex } from "@/lib/crypto";
import { notifyBrowserTrusted } from "@/lib/notifications/notify";
import { recordKeyUse, verifyKeyAssertion } from "@/lib/security-keys/assertion";
import { trustBrowser } from "@/lib/two-factor/trusted-browsers";
import { owesSecondFactor, type Factor, type Refusal } from "./factor";

const REFUSED: Refusal = { error: "key_invalid", event: "security_key.refused" };
const REGRESSED: Refusal = { error: "key_invalid", event: "security_key.counter_regressed" };

/**
 * Use security key: an assertion over the WebAuthn challenge this very
 * sign-in was given, signed by one of this user's keys
 * (lib/security-keys/assertion.ts). User verification is recorded, not
 * required (the password came first). Guessable like a code: each failed
 * assertion counts in the shared lockout. A counter regression is refused
 * and audited. "Trust this browser" works as with a code: the token is
 * issued in the finishing transaction, with the key's use.
 */
export const securityKey: Factor = {
  guessable: true,
  qualifies: owesSecondFactor,
  async verify({ db, input, user, settings, context }) {
    const owner = { purpose: "sign_in", userId: user.id, signInChallengeHash: sha256Hex(input.challenge) } as const;
    const verdict = await verifyKeyAssertion(db, user.id, input.assertion, owner);
    if (!verdict.ok) return { ok: false, ...(verdict.regressed ? REGRESSED : REFUSED) };
    const trusting = !!input.trust && settings.trustBrowserEnabled;
    return {
      ok: true,
      factor: "security_key",
      lost: REGRESSED,
      async consume(tx) {
        if (!(await recordKeyUse(tx, verdict))) return null;
        await recordEvent(tx, "security_key.used", { actorUserId: user.id, targetUserId: user.id }, context, { name: verdict.key.name, userVerified: verdict.userVerified });
        return trusting ? { trustToken: await trustBrowser(tx, user.id, settings.trustBrowserDays, context) } : {};
      },
      afterCommit: trusting ? () => notifyBrowserTrusted(db, user, context, settings.trustBrowserDays) : undefined,
    };
  },
};
