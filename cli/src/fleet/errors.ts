/**
 * Errors of the CLI as a client of a Vigil control plane (`--server URL --token T`, `vigil remote-scan`): the
 * upload of a report, the fleet's vulnerability database, remote scans. Codes are documented in docs/errors.md
 * (a test checks both lists agree) and map to exit codes in cli/src/exit-codes.ts.
 */
export const FLEET_ERROR_CODES = [
  'CLI_SERVER_UNAUTHENTICATED',
  'CLI_SERVER_FORBIDDEN',
  'CLI_SERVER_UNREACHABLE',
  'CLI_SERVER_ERROR',
  'CLI_SERVER_REFUSED',
  'CLI_SNAPSHOT_INVALID',
  'CLI_REMOTE_SCAN_FAILED',
  'CLI_REMOTE_SCAN_CANCELLED',
  'CLI_REMOTE_SCAN_TIMEOUT',
] as const;

export type FleetErrorCode = (typeof FLEET_ERROR_CODES)[number];

const BRAND = Symbol.for('vigil.cli.fleet.error');

export class FleetError extends Error {
  readonly code: FleetErrorCode;
  readonly [BRAND] = true;

  constructor(code: FleetErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FleetError';
    this.code = code;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isFleetError(value);
  }
}

/** True for any FleetError, also one from another copy of this module. */
export function isFleetError(value: unknown): value is FleetError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
