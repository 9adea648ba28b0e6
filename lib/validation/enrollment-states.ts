import type { FormState } from "./messages";

/** Enrollment step 1's answer: the secret as QR code (SVG) and text — the only time it leaves the server. */
export type EnrollmentStart = { status: "success"; qrSvg: string; setupKey: string } | Extract<FormState, { status: "error" }>;

/** Step 2's answer (and new codes'): the recovery codes, shown once. */
export type CodesState = FormState | { status: "success"; recoveryCodes: string[] };
