import "server-only";
import { requirementFor, type Factor } from "./factor";

/**
 * No second factor: only for a user who owes none now (two-factor login off,
 * or neither enrolled nor required) — re-checked here, never taken from the browser.
 */
export const passwordOnly: Factor = {
  guessable: false,
  qualifies: (attempt) => requirementFor(attempt) === "none",
  verify: async () => ({ ok: true, factor: "password" }),
};
