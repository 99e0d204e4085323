/**
 * Coded control-plane errors. Every code is documented in docs/errors.md, section "Control plane (`CP_`)"
 * (a test checks both ways). Codes are never reused; add new ones at the end of their group.
 * The REST gateway maps a code to an HTTP status and a `{code, message}` body, the gRPC layer to a status;
 * both mappings live at their edge, not here.
 */

const BRAND = Symbol.for('vigil.control-plane.error');

export const CONTROL_PLANE_ERROR_CODES = [
  // requests
  'CP_INVALID_ARGUMENT',
  'CP_CURSOR_INVALID',
  'CP_NOT_FOUND',
  'CP_CONFLICT',
  // accounts
  'CP_UNAUTHENTICATED',
  'CP_FORBIDDEN',
  'CP_ENTITLEMENT_DISABLED',
  'CP_LAST_ADMIN',
  // scans
  'CP_SCAN_TRANSITION_INVALID',
  'CP_SCAN_ATTEMPT_STALE',
  'CP_IMAGE_UNRESOLVABLE',
  'CP_REPORT_INVALID',
  'CP_SCAN_WORKER_LOST',
  'CP_SCAN_REPORT_TRUNCATED',
  'CP_SCAN_NOT_COMPLETED',
  // queue and analytics
  'CP_QUEUE_UNAVAILABLE',
  'CP_ANALYTICS_UNAVAILABLE',
  'CP_ANALYTICS_ERROR',
  // database
  'CP_DB_UNAVAILABLE',
  'CP_DB_ERROR',
  'CP_DB_MIGRATION_INVALID',
  'CP_DB_MIGRATION_MODIFIED',
  'CP_DB_MIGRATION_FAILED',
  // calls (gRPC adapter, REST gateway)
  'CP_CANCELLED',
  'CP_INTERNAL',
  'CP_PAYLOAD_TOO_LARGE',
  'CP_UNSUPPORTED_MEDIA_TYPE',
  'CP_RATE_LIMITED',
  'CP_CSRF',
  'CP_UNAVAILABLE',
] as const;

export type ControlPlaneErrorCode = (typeof CONTROL_PLANE_ERROR_CODES)[number];

/** Base class of every error the control plane throws on purpose. `code` is stable and documented. */
export class ControlPlaneError extends Error {
  readonly code: ControlPlaneErrorCode;
  readonly [BRAND] = true;

  constructor(code: ControlPlaneErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ControlPlaneError';
    this.code = code;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isControlPlaneError(value);
  }
}

/** True for any ControlPlaneError, also one thrown by another copy of this module. */
export function isControlPlaneError(value: unknown): value is ControlPlaneError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
