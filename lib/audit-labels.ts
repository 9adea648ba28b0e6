/** People-readable names of audit events (client-safe: no server imports). */
export const AUDIT_EVENT_LABELS: Record<string, string> = {
  "sign_in.succeeded": "Signed in",
  "sign_in.password_failed": "Wrong password",
  "sign_in.code_failed": "Wrong code",
  "sign_in.code_replayed": "Reused code refused",
  "sign_in.locked_out": "Code entry locked",
  "recovery_code.used": "Recovery code used",
  "two_factor.enabled": "Two-factor enabled",
  "two_factor.disabled": "Two-factor disabled",
  "two_factor.removed_by_admin": "Two-factor removed by an administrator",
  "recovery_codes.regenerated": "New recovery codes",
  "trusted_browser.added": "Browser trusted",
  "trusted_browser.removed": "Trusted browser removed",
  "password.changed": "Password changed",
  "sessions.ended": "Signed out everywhere",
  "settings.changed": "Settings changed",
  "user.created": "User added",
  "user.changed": "User changed",
  "setup.completed": "First administrator created",
};

export function auditEventLabel(event: string): string {
  return AUDIT_EVENT_LABELS[event] ?? event;
}
