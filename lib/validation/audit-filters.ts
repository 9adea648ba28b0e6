import { z } from "zod";
import { NO_CONTROL_CHARACTERS } from "./fields";

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)));

/** Audit log filters as they come in the URL; anything malformed is dropped, never an error page. */
export const auditFiltersSchema = z.object({
  // No control characters: an email has none, and a NUL made PostgreSQL fail the lookup (a 500).
  user: z.string().trim().toLowerCase().max(254).regex(NO_CONTROL_CHARACTERS).optional().catch(undefined),
  event: z.string().max(64).regex(/^[a-z_.]*$/).optional().catch(undefined),
  from: date.optional().catch(undefined),
  to: date.optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100_000).optional().catch(undefined),
});

export type AuditFilterParams = z.infer<typeof auditFiltersSchema>;

/** First value of each search param (a repeated param is not an array here). */
export function firstValues(params: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(params).map(([key, value]) => [key, Array.isArray(value) ? value[0] : value]));
}
