/**
 * Errors of the worker's queue side. Plain typed errors (the worker does not use the control plane's CP_ codes):
 * `kind` says what went wrong, a Symbol.for brand makes `isJobQueueError` work across module copies.
 */

const BRAND = Symbol.for('vigil.worker.queue-error');

/**
 * - `unavailable`: NATS did not answer in time (disconnected, restarting, or the stream/consumers do not exist)
 * - `invalid-options`: a name or setting NATS would reject
 */
export type JobQueueErrorKind = 'unavailable' | 'invalid-options';

export class JobQueueError extends Error {
  readonly kind: JobQueueErrorKind;
  readonly [BRAND] = true;

  constructor(kind: JobQueueErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'JobQueueError';
    this.kind = kind;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isJobQueueError(value);
  }
}

/** True for any JobQueueError, also one thrown by another copy of this module. */
export function isJobQueueError(value: unknown): value is JobQueueError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
