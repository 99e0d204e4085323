/**
 * The dispatch side of the work queue, declared by its consumer (the scan service). Implemented by
 * queue/jetstream (NATS JetStream, the fleet) and queue/in-process (the all-in-one server, which hands the
 * same object's consumer side to in-process workers).
 *
 * Delivery is at-least-once: a job is redelivered until a worker acknowledges it, at most `maxDeliver` times.
 * The message id is the scan id (`<scan id>.<attempt base>` for a re-queued copy, wire.ts `jobMessageId`), so
 * publishing the same job twice inside the dedup window (2 min by default, counted from the first publish) is a
 * no-op; a republish after the window is stored again, and the worker's claim drops the extra copy. A delivery's
 * attempt is the job's `attemptBase` plus its delivery count. The worker claims each attempt through the control
 * plane (WorkerService.ClaimJob), which drops jobs of cancelled or finished scans and stale attempts.
 */
import type { ScanPriority } from '../services/types.js';

/** One scan job as published (the ScanJob proto message on the wire). */
export interface ScanJobMessage {
  scanId: string;
  orgId: string;
  imageId: string;
  /** what the worker pulls: `<repository>@<digest>`, or a local path in the all-in-one server */
  imageRef: string;
  digest: string;
  dbVersion: string;
  priority: ScanPriority;
  queuedAt: Date;
  /**
   * The scan's attempts before this copy was published: 0 for its first job, the current attempt for a scan the
   * stale-scan reaper re-queued (dispatch/reaper.ts). Deliveries of this copy are attempts base + 1, base + 2, …
   */
  attemptBase: number;
  /** a rematch batch job (control-plane/src/rematch): `scanId` is the batch id */
  rematch?: boolean;
}

export interface CancelMessage {
  scanId: string;
  orgId: string;
  reason: string;
}

/** A job that exhausted its deliveries (its last worker died or it kept failing retryably). */
export interface DeadJob {
  scanId: string;
  deliveries: number;
  /** the job copy's attempt base: its last delivery was attempt `attemptBase + deliveries` */
  attemptBase: number;
}

export interface JobDispatcher {
  /** Creates the stream and consumers if missing (idempotent). */
  setup(): Promise<void>;
  /**
   * Publishes jobs in chunks (bounded in-flight publish acks), in the given order (a retried publish may land
   * after later ones). Resolves when every job is stored; `duplicates` counts jobs already queued under their scan
   * id. Rejects with CP_INVALID_ARGUMENT (before sending anything) for a job without scan, org or image id, image
   * reference, known priority or valid queuedAt, and with CP_QUEUE_UNAVAILABLE after retries, naming how many were
   * stored (safe to call again: duplicates are dropped by message id).
   */
  publish(jobs: readonly ScanJobMessage[]): Promise<{ published: number; duplicates: number }>;
  /** Tells every worker to abort this scan if it is running it (fire and forget, best effort, at-most-once). */
  cancel(message: CancelMessage): Promise<void>;
  /**
   * Called for each job that exhausted its deliveries; returns an unsubscribe function. JetStream reports it when a
   * worker next asks for a job (idle workers ask every few seconds); best effort: a dead job nobody hears of is the
   * scheduler's stale-scan case.
   */
  onDeadJob(listener: (job: DeadJob) => void): () => void;
  /**
   * Jobs waiting, for /metrics and the bench. In-process: not yet delivered or awaiting redelivery. JetStream: not
   * yet delivered (the consumers' num_pending); it cannot tell a job awaiting redelivery from one in flight.
   */
  pending(): Promise<number>;
  /** Stops listening (dead jobs); the NATS connection stays open (it belongs to the caller). */
  close(): Promise<void>;
}
