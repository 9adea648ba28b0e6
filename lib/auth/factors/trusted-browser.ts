import "server-only";
import { findTrustedBrowser, recordTrustedBrowserUse } from "@/lib/two-factor/trusted-browsers";
import { owesSecondFactor, type Factor, type Refusal } from "./factor";

const REFUSED: Refusal = { error: "not_trusted", event: "trusted_browser.refused" };

/**
 * A trusted-browser token of this very user, still honoured now, stands in
 * for the code (never for the password). A refused token (expired, revoked,
 * another user's, forged) leaves the challenge for a code and is on record.
 * Not guessable: the token is 256 random bits, looked up by its hash.
 */
export const trustedBrowser: Factor = {
  guessable: false,
  qualifies: owesSecondFactor,
  async verify({ db, input, user, settings }) {
    const trusted = await findTrustedBrowser(db, user.id, input.trustToken ?? "", settings);
    if (!trusted) return { ok: false, ...REFUSED };
    return {
      ok: true,
      factor: "trusted_browser",
      // Revoked since the lookup (removed, a recovery code used, the option off): refused like any stale token.
      consume: async (tx) => ((await recordTrustedBrowserUse(tx, trusted.id)) ? {} : null),
      lost: REFUSED,
    };
  },
};
