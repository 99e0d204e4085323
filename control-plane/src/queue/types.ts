/**
 * The dispatch side of the work queue, declared by its consumer (the scan service). Implemented by
 * queue/jetstream (NATS JetStream, the fleet) and queue/in-process (the all-in-one server, which hands the
 * same object's consumer side to in-process workers).
 *
 * Delivery is at-least-once: a job is redelivered until a worker acknowledges it, at most `maxDeliver` times.
 * The scan id is the message id, so publishing the same scan twice inside the dedup window is a no-op; the
 * worker claims each attempt through the control plane (WorkerService.ClaimJob), which drops jobs of cancelled
 * or finished scans.
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
}

export interface JobDispatcher {
  /** Creates the stream and consumers if missing (idempotent). */
  setup(): Promise<void>;
  /**
   * Publishes jobs in chunks (bounded in-flight publish acks), in the given order. Resolves when every job is
   * stored; rejects with CP_QUEUE_UNAVAILABLE after retries, naming how many were stored (safe to call again:
   * duplicates are dropped by message id).
   */
  publish(jobs: readonly ScanJobMessage[]): Promise<{ published: number; duplicates: number }>;
  /** Tells every worker to abort this scan if it is running it (fire and forget, best effort, at-most-once). */
  cancel(message: CancelMessage): Promise<void>;
  /** Called for each job that exhausted its deliveries; returns an unsubscribe function. */
  onDeadJob(listener: (job: DeadJob) => void): () => void;
  /** Jobs waiting (not yet delivered or awaiting redelivery), for /metrics and the bench. */
  pending(): Promise<number>;
  close(): Promise<void>;
}
