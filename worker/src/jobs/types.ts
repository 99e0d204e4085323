/**
 * What a job handler tells the consumer loop, and why a running job was told to stop. Handlers are
 * plain async functions of a delivery and an AbortSignal; the loop acknowledges or gives back the
 * message according to the disposition, so handlers never touch the queue.
 */

/**
 * - `completed`, `failed` (for good), `cancelled`, `dropped` (the control plane said not to run it):
 *   acknowledged;
 * - `retry` (a retryable failure, reported as such) and `requeued` (the control plane could not be
 *   reached, or the worker is shutting down): given back for redelivery after `delayMs`.
 */
export type Disposition =
  | { outcome: 'completed' | 'failed' | 'cancelled' | 'dropped' }
  | { outcome: 'retry' | 'requeued'; delayMs: number };

export type JobOutcome = Disposition['outcome'];

/** The reason a job's AbortSignal carries when the worker stops it. */
export type JobStop =
  { kind: 'cancel'; reason: string } | { kind: 'shutdown' } | { kind: 'timeout'; afterMs: number };

/** The JobStop a signal was aborted with, if it was aborted by the worker. */
export function jobStopOf(signal: AbortSignal): JobStop | undefined {
  if (!signal.aborted) return undefined;
  const reason = signal.reason as Partial<JobStop> | undefined;
  return reason && (reason.kind === 'cancel' || reason.kind === 'shutdown' || reason.kind === 'timeout')
    ? (reason as JobStop)
    : undefined;
}
