/**
 * The consuming side of the work queue, declared by its consumer (the worker runtime). Implemented by
 * queue/jetstream (a durable pull consumer per priority, manual > ci > scheduled) and by the control plane's
 * in-process queue in the all-in-one server (structurally the same interface).
 */

/** `rematch`: rematch batches, taken only when no other job waits. */
export type JobPriority = 'manual' | 'ci' | 'scheduled' | 'rematch';

export interface ScanJob {
  scanId: string;
  orgId: string;
  imageId: string;
  imageRef: string;
  digest: string;
  dbVersion: string;
  priority: JobPriority;
  queuedAt: Date;
  /** the scan's attempts before this copy of the job was published (0 for its first job) */
  attemptBase: number;
  /** a rematch batch (jobs/rematch.ts): `scanId` is the batch id */
  rematch?: boolean;
}

/**
 * One delivery of a job. Exactly one of ack / nak / term must be called; the first one wins and later calls do
 * nothing. Every redelivery (nak, missed deadline) counts as an attempt.
 */
export interface JobDelivery {
  job: ScanJob;
  /** The scan's attempt: the job's attempt base plus the delivery count (1 for the first delivery, n for the n-th). */
  attempt: number;
  /** true when this is the last delivery the queue will make of this copy of the job */
  lastAttempt: boolean;
  /**
   * Heartbeat for long scans: extends the ack deadline (JetStream `working()`). The sources also heartbeat every
   * ack_wait/3 on their own while the delivery is held (option `autoHeartbeat`, default true).
   */
  working(): void;
  /**
   * Done (completed, failed for good, cancelled, or dropped). Resolves once the queue confirmed it; rejects with
   * JobQueueError `unavailable` when it could not (the job may then be redelivered: ClaimJob drops a stale attempt).
   */
  ack(): Promise<void>;
  /**
   * Give it back for redelivery after `delayMs` (a retryable failure, or `nak(0)` when draining on shutdown);
   * without `delayMs` after the source's backoff for this attempt (default 2 s, 10 s, 30 s, 60 s). A nak of the
   * last attempt makes the job dead (the control plane's onDeadJob).
   */
  nak(delayMs?: number): void;
  /** Never deliver again. */
  term(): void;
}

export interface CancelSignal {
  scanId: string;
  orgId: string;
  reason: string;
}

export interface JobSource {
  /**
   * The next job, highest priority first (manual > ci > scheduled, with every 10th job from a lower priority
   * when one waits, so none starves); waits until one arrives. Resolves null once `signal` aborts or the source is
   * closed. A job whose payload cannot be decoded is terminated and logged, never handed out. Errors (NATS
   * unreachable) are retried inside; next() itself does not reject.
   */
  next(signal: AbortSignal): Promise<JobDelivery | null>;
  /** Cancel signals broadcast by the control plane (at most once, to every source); returns an unsubscribe function. */
  onCancel(listener: (signal: CancelSignal) => void): () => void;
  /** Fires when the connection is lost and restored (for logs and readiness). */
  onStatus?(listener: (status: 'connected' | 'disconnected' | 'reconnecting') => void): () => void;
  /**
   * Stops handing out jobs and stops the automatic heartbeats; settle held deliveries first, or they are
   * redelivered after ack_wait. Does not close a connection passed in.
   */
  close(): Promise<void>;
}
