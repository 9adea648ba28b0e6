import { z } from "zod";
import { NO_CONTROL_CHARACTERS } from "./fields";

/** Administration → Users shows this many users a page. */
export const USERS_PAGE_SIZE = 25;
export const USER_SEARCH_MAX_LENGTH = 100;
/**
 * A search or filter counts its matches up to this many and shows more as
 * "5000+ users". Up to it, the matches are found through the trigram indexes
 * and sorted (~1 µs a match at 100 000 users); beyond, the name order is
 * walked instead, which so many matches make short.
 */
export const USER_MATCH_COUNT_LIMIT = 5_000;

/**
 * The 2FA filter of the Users table: "on" enrolled (an enabled TOTP credential
 * or a security key: a key alone is a second factor), "required" not enrolled
 * and told to enrol at the next sign-in, "off" neither; "key" with at least one
 * security key (whatever the rest).
 */
export const USER_FILTERS = ["all", "on", "off", "required", "key"] as const;
export type UserFilter = (typeof USER_FILTERS)[number];

// URL search params arrive as a string, several strings (?page=1&page=2) or nothing.
const firstValue = (value: unknown) => (Array.isArray(value) ? value[0] : value);

/**
 * The Users page's search params. Each field falls back to its default
 * instead of failing — a hand-edited or stale URL shows a page, never an
 * error — so `parse` does not throw on any input.
 */
export const userSearchSchema = z
  .object({
    // No control characters: nobody types them, and a NUL made PostgreSQL fail the LIKE (a 500).
    query: z.preprocess(firstValue, z.string().trim().max(USER_SEARCH_MAX_LENGTH).regex(NO_CONTROL_CHARACTERS)).catch(""),
    page: z.preprocess(firstValue, z.coerce.number().int().min(1)).catch(1),
    filter: z.preprocess(firstValue, z.enum(USER_FILTERS)).catch("all"),
  })
  .catch({ query: "", page: 1, filter: "all" });

export type UserSearch = z.output<typeof userSearchSchema>;

/** `searchParams` (or any value) to a valid search; never throws. */
export function parseUserSearch(input: unknown): UserSearch {
  return userSearchSchema.parse(input);
}
