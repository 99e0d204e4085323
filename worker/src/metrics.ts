/**
 * Counters of one worker process that the control plane cannot see: what its jobs ended as, how
 * many run now (and how many of those wait for the control plane), and how fast cancels stopped
 * them. Read with `WorkerHandle.metrics()`.
 */
import type { JobOutcome } from './jobs/types.js';

export interface WorkerMetrics {
  /** deliveries taken from the queue */
  received: number;
  /** jobs running now */
  inFlight: number;
  /** running jobs that keep their delivery until the unreachable control plane answers */
  waitingForControlPlane: number;
  /** per final outcome of a delivery (see Disposition) */
  outcomes: Record<JobOutcome, number>;
  /** cancel signal → job stopped and acknowledged, over cancelled running jobs */
  cancelStop: { count: number; totalMs: number; maxMs: number };
  /** failures to acknowledge or give back a message (the queue redelivers it) */
  settleErrors: number;
}

/** The mutable counters behind `metrics()`. */
export class MetricsRecorder {
  private readonly value: WorkerMetrics = {
    received: 0,
    inFlight: 0,
    waitingForControlPlane: 0,
    outcomes: { completed: 0, failed: 0, cancelled: 0, dropped: 0, retry: 0, requeued: 0 },
    cancelStop: { count: 0, totalMs: 0, maxMs: 0 },
    settleErrors: 0,
  };

  started(): void {
    this.value.received++;
    this.value.inFlight++;
  }

  finished(outcome: JobOutcome, cancelStopMs?: number): void {
    this.value.inFlight--;
    this.value.outcomes[outcome]++;
    if (cancelStopMs !== undefined) {
      const c = this.value.cancelStop;
      c.count++;
      c.totalMs += cancelStopMs;
      c.maxMs = Math.max(c.maxMs, cancelStopMs);
    }
  }

  waiting(jobs: number): void {
    this.value.waitingForControlPlane = jobs;
  }

  settleError(): void {
    this.value.settleErrors++;
  }

  /** A copy of the counters. */
  snapshot(): WorkerMetrics {
    return structuredClone(this.value);
  }
}
