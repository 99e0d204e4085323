/**
 * Test-only JobSource over an in-memory list, recording what the worker does with each delivery
 * (ack / nak with its delay / term, heartbeats) and how many deliveries were out at once. Cancel
 * signals are emitted by the test. A nak'd job is not redelivered unless `redeliver` is set.
 */
import type { CancelSignal, JobDelivery, JobSource, ScanJob } from '../queue/types.js';

export interface Settlement {
  scanId: string;
  attempt: number;
  action: 'ack' | 'nak' | 'term';
  delayMs?: number;
  /** performance.now() when it happened */
  at: number;
}

interface Queued {
  job: ScanJob;
  attempt: number;
}

export function scanJob(scanId: string, imageRef: string): ScanJob {
  return {
    scanId,
    orgId: 'org-1',
    imageId: `image-${scanId}`,
    imageRef,
    digest: '',
    dbVersion: '',
    priority: 'manual',
    queuedAt: new Date('2025-01-01T00:00:00Z'),
    attemptBase: 0,
  };
}

export class ArrayJobSource implements JobSource {
  readonly settlements: Settlement[] = [];
  readonly taken: { scanId: string; attempt: number }[] = [];
  readonly heartbeats = new Map<string, number>();
  /** most deliveries out (taken, not yet settled) at any moment */
  maxOut = 0;
  private out = 0;
  private readonly queue: Queued[] = [];
  private readonly cancelListeners = new Set<(signal: CancelSignal) => void>();
  private waiter: (() => void) | undefined;
  private closed = false;

  constructor(private readonly options: { maxDeliver?: number; redeliver?: boolean } = {}) {}

  push(job: ScanJob, attempt = 1): void {
    this.queue.push({ job, attempt });
    this.waiter?.();
  }

  /** Jobs not yet taken. */
  get pending(): number {
    return this.queue.length;
  }

  cancel(scanId: string, reason = 'cancelled by a test'): void {
    for (const listener of this.cancelListeners) listener({ scanId, orgId: 'org-1', reason });
  }

  settlementsOf(scanId: string): Omit<Settlement, 'at'>[] {
    return this.settlements.filter((s) => s.scanId === scanId).map(({ at: _at, ...rest }) => rest);
  }

  async next(signal: AbortSignal): Promise<JobDelivery | null> {
    while (this.queue.length === 0) {
      if (signal.aborted || this.closed) return null;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      this.waiter = undefined;
    }
    if (signal.aborted || this.closed) return null;
    const { job, attempt } = this.queue.shift()!;
    this.taken.push({ scanId: job.scanId, attempt });
    this.out++;
    this.maxOut = Math.max(this.maxOut, this.out);
    const maxDeliver = this.options.maxDeliver ?? 3;
    let settled = false;
    const settle = (action: Settlement['action'], delayMs?: number) => {
      if (settled) throw new Error(`delivery of ${job.scanId} settled twice`);
      settled = true;
      this.out--;
      this.settlements.push({
        scanId: job.scanId,
        attempt,
        action,
        ...(delayMs === undefined ? {} : { delayMs }),
        at: performance.now(),
      });
    };
    return {
      job,
      attempt,
      lastAttempt: attempt >= maxDeliver,
      working: () => this.heartbeats.set(job.scanId, (this.heartbeats.get(job.scanId) ?? 0) + 1),
      ack: async () => settle('ack'),
      nak: (delayMs?: number) => {
        settle('nak', delayMs);
        if (this.options.redeliver && attempt < maxDeliver) {
          setTimeout(() => this.push(job, attempt + 1), delayMs ?? 0);
        }
      },
      term: () => settle('term'),
    };
  }

  onCancel(listener: (signal: CancelSignal) => void): () => void {
    this.cancelListeners.add(listener);
    return () => this.cancelListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiter?.();
  }
}
