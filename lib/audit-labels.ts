/** People-readable names of audit events (client-safe: no server imports). */
export const AUDIT_EVENT_LABELS: Record<string, string> = {
  "sign_in.succeeded": "Signed in",
  "sign_in.password_failed": "Wrong password",
  "sign_in.code_failed": "Wrong code",
  "sign_in.code_replayed": "Reused code refused",
  "sign_in.locked_out": "Code entry locked",
  "sign_in.finish_refused": "Sign-in refused",
  "sign_in.locked_attempt": "Code sent while locked",
  "recovery_code.used": "Recovery code used",
  "two_factor.enabled": "Two-factor enabled",
  "two_factor.disabled": "Two-factor disabled",
  "two_factor.removed_by_admin": "Two-factor removed by an administrator",
  "recovery_codes.regenerated": "New recovery codes",
  "trusted_browser.added": "Browser trusted",
  "trusted_browser.removed": "Trusted browser removed",
  "trusted_browser.refused": "Trusted browser not recognised",
  "security_key.added": "Security key added",
  "security_key.used": "Security key used",
  "security_key.renamed": "Security key renamed",
  "security_key.removed": "Security key removed",
  "security_key.refused": "Security key refused",
  "security_key.counter_regressed": "Security key counter went backwards",
  "password.changed": "Password changed",
  "sessions.ended": "Signed out everywhere",
  "session.ended": "Signed out a session",
  "settings.changed": "Settings changed",
  "user.created": "User added",
  "user.changed": "User changed",
  "setup.completed": "First administrator created",
};

export function auditEventLabel(event: string): string {
  return AUDIT_EVENT_LABELS[event] ?? event;
}
