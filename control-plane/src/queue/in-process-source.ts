/**
 * The consumer side of the in-process queue (in-process.ts): what `queue.source()` returns, structurally the
 * worker's JobSource / JobDelivery (worker/src/queue/types.ts). A source takes jobs in its own priority order
 * (priority-order.ts), heartbeats the jobs it holds, and hears cancel signals.
 */
import type { ScanPriority } from '../services/types.js';
import { DEFAULT_LOWER_PRIORITY_EVERY, priorityOrder } from './priority-order.js';
import type { CancelMessage, ScanJobMessage } from './types.js';

/** One delivery of a job (the worker's JobDelivery). Exactly one of ack / nak / term; later calls are ignored. */
export interface InProcessJobDelivery {
  job: ScanJobMessage;
  attempt: number;
  lastAttempt: boolean;
  working(): void;
  ack(): Promise<void>;
  /** redeliver after `delayMs`; without it after the queue's backoff for this attempt */
  nak(delayMs?: number): void;
  term(): void;
}

/** A consumer of the queue (the worker's JobSource). */
export interface InProcessJobSource {
  next(signal: AbortSignal): Promise<InProcessJobDelivery | null>;
  onCancel(listener: (signal: CancelMessage) => void): () => void;
  /** Stops handing out jobs; jobs it still holds lose their heartbeat and are redelivered after their deadline. */
  close(): Promise<void>;
}

export interface InProcessSourceOptions {
  /** heartbeat held jobs every ackWait/3 until settled (default true) */
  autoHeartbeat?: boolean;
  /** see priority-order.ts (default 10; 0 = strict priority) */
  lowerPriorityEvery?: number;
}

/** A source waiting for a job. */
export interface Waiter {
  source: InProcessSource;
  resolve(delivery: InProcessJobDelivery | null): void;
}

/** What a source needs from its queue (in-process.ts). */
export interface SourceHost {
  /** the next job for `source` now, or null when none is ready */
  take(source: InProcessSource): InProcessJobDelivery | null;
  /** queues `waiter` for the next job; returns a function that withdraws it */
  wait(waiter: Waiter): () => void;
  /** the source closed: its waiters get null */
  forget(source: InProcessSource): void;
  /** logs a listener that threw */
  report(event: string, fields: object, error: unknown): void;
}

/** One consumer of the queue. */
export class InProcessSource implements InProcessJobSource {
  private readonly cancelListeners = new Set<(signal: CancelMessage) => void>();
  private readonly heartbeats = new Set<NodeJS.Timeout>();
  private readonly autoHeartbeat: boolean;
  private readonly lowerPriorityEvery: number;
  /** jobs handed out so far (drives priority-order.ts) */
  taken = 0;
  private closed = false;

  constructor(
    private readonly queue: SourceHost,
    options: InProcessSourceOptions,
  ) {
    this.autoHeartbeat = options.autoHeartbeat ?? true;
    this.lowerPriorityEvery = options.lowerPriorityEvery ?? DEFAULT_LOWER_PRIORITY_EVERY;
  }

  next(signal: AbortSignal): Promise<InProcessJobDelivery | null> {
    if (this.closed || signal.aborted) return Promise.resolve(null);
    const now = this.queue.take(this);
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        stopWaiting();
        resolve(null);
      };
      const stopWaiting = this.queue.wait({
        source: this,
        resolve: (delivery) => {
          signal.removeEventListener('abort', onAbort);
          resolve(delivery);
        },
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  onCancel(listener: (signal: CancelMessage) => void): () => void {
    this.cancelListeners.add(listener);
    return () => {
      this.cancelListeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.heartbeats) clearInterval(timer);
    this.heartbeats.clear();
    this.queue.forget(this);
  }

  /** The priorities to try for the next job. */
  order(): readonly ScanPriority[] {
    return priorityOrder(this.taken, this.lowerPriorityEvery);
  }

  /** Calls `working` every ackWait/3 until the returned stop function runs or this source closes. */
  heartbeat(working: () => void, ackWaitMs: number): () => void {
    if (!this.autoHeartbeat || this.closed) return () => {};
    const timer = setInterval(working, Math.max(1, Math.floor(ackWaitMs / 3)));
    this.heartbeats.add(timer);
    return () => {
      clearInterval(timer);
      this.heartbeats.delete(timer);
    };
  }

  emitCancel(message: CancelMessage): void {
    if (this.closed) return;
    for (const listener of this.cancelListeners) {
      try {
        listener({ ...message });
      } catch (error) {
        this.queue.report('queue cancel listener failed', { scanId: message.scanId }, error);
      }
    }
  }
}
