import "server-only";
import type { Factor } from "./factor";

/**
 * The forced enrollment of this very challenge, just confirmed with a code
 * (lib/two-factor/sign-in-enrollment.ts): the confirmation replaced the
 * "enroll" challenge with an "enrolled" one, and only that one finishes
 * without a further code. Another challenge of the same user, open while the
 * owner enrolled, does not (the enrollment bypass of issue 11).
 */
export const enrollment: Factor = {
  guessable: false,
  qualifies: ({ challenge }) => challenge.purpose === "enrolled",
  verify: async () => ({ ok: true, factor: "totp_enrollment" }),
};
