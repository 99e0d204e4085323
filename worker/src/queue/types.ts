/**
 * The consuming side of the work queue, declared by its consumer (the worker runtime). Implemented by
 * queue/jetstream (a durable pull consumer per priority, manual > ci > scheduled) and by the control plane's
 * in-process queue in the all-in-one server (structurally the same interface).
 */

export type JobPriority = 'manual' | 'ci' | 'scheduled';

export interface ScanJob {
  scanId: string;
  orgId: string;
  imageId: string;
  imageRef: string;
  digest: string;
  dbVersion: string;
  priority: JobPriority;
  queuedAt: Date;
}

/** One delivery of a job. Exactly one of ack / nak / term must be called. */
export interface JobDelivery {
  job: ScanJob;
  /** 1 for the first delivery, n for the n-th (JetStream delivery count). */
  attempt: number;
  /** true when this is the last delivery the queue will make */
  lastAttempt: boolean;
  /** Heartbeat for long scans: extends the ack deadline (JetStream `working()`). */
  working(): void;
  /** Done (completed, failed for good, cancelled, or dropped). */
  ack(): Promise<void>;
  /** Give it back for redelivery after `delayMs` (a retryable failure, or draining on shutdown). */
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
   * The next job, highest priority first; waits until one arrives. Resolves null once `signal` aborts or the
   * source is closed. A job whose payload cannot be decoded is terminated and logged, never handed out.
   */
  next(signal: AbortSignal): Promise<JobDelivery | null>;
  /** Cancel signals broadcast by the control plane; returns an unsubscribe function. */
  onCancel(listener: (signal: CancelSignal) => void): () => void;
  /** Fires when the connection is lost and restored (for logs and readiness). */
  onStatus?(listener: (status: 'connected' | 'disconnected' | 'reconnecting') => void): () => void;
  close(): Promise<void>;
}
