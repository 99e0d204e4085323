/**
 * Coded worker errors (WRK_): what a Report `failed` event carries when the failure is not an engine
 * error, and what invalid worker configuration throws. Codes are never reused; see docs/errors.md.
 */

const BRAND = Symbol.for('vigil.worker.error');

export const WORKER_ERROR_CODES = [
  // configuration
  'WRK_CONFIG_INVALID',
  // vulnerability database snapshots
  'WRK_SNAPSHOT_UNAVAILABLE',
  'WRK_SNAPSHOT_INVALID',
  // jobs
  'WRK_SCAN_TIMEOUT',
  'WRK_IO',
  'WRK_INTERNAL',
] as const;

export type WorkerErrorCode = (typeof WORKER_ERROR_CODES)[number];

export class WorkerError extends Error {
  readonly code: WorkerErrorCode;
  readonly [BRAND] = true;

  constructor(code: WorkerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WorkerError';
    this.code = code;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isWorkerError(value);
  }
}

/** True for any WorkerError, also one thrown by another copy of the worker. */
export function isWorkerError(value: unknown): value is WorkerError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
