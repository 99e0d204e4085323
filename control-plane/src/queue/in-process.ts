/**
 * The all-in-one server's work queue: a JobDispatcher whose `source()` hands out consumers structurally equal to
 * the worker's JobSource (worker/src/queue/types.ts; the control plane never imports the worker), with the
 * JetStream queue's semantics so in-process workers behave as in the fleet:
 *
 * - priorities manual > ci > scheduled per consumer (priority-order.ts), FIFO within one, redeliveries first;
 * - dedup by message id (the scan id, see wire.ts `jobMessageId`) while a job is pending or in flight, and for
 *   `duplicateWindowMs` after it was published;
 * - a delivery's attempt is the job's attempt base plus its delivery count;
 * - an ack deadline (`ackWaitMs`) that `working()` extends (automatically every ackWait/3 while a consumer holds a
 *   job, unless `autoHeartbeat: false`); a job whose deadline passes is redelivered with attempt + 1;
 * - `nak(delay)` redelivers after the delay; after `maxDeliver` deliveries the job is dead (`onDeadJob`);
 * - `cancel` reaches every open consumer; `pending()` counts jobs waiting for a first delivery or a redelivery.
 */
import { ControlPlaneError } from '../errors.js';
import { SCAN_PRIORITIES, type ScanPriority } from '../services/types.js';
import { Deque } from './deque.js';
import { SILENT_QUEUE_LOGGER, type QueueLogger } from './logger.js';
import {
  InProcessSource,
  type InProcessJobDelivery,
  type InProcessJobSource,
  type InProcessSourceOptions,
  type SourceHost,
  type Waiter,
} from './in-process-source.js';
import type { CancelMessage, DeadJob, JobDispatcher, ScanJobMessage } from './types.js';
import { jobMessageId, validateJobs } from './wire.js';

export type { InProcessJobDelivery, InProcessJobSource, InProcessSourceOptions };

export interface InProcessQueueOptions {
  /** default 30 s */
  ackWaitMs?: number;
  /** default 5 */
  maxDeliver?: number;
  /** default 2 min */
  duplicateWindowMs?: number;
  /** redelivery delay of `nak()` without a delay, by attempt (the last repeats); default 2 s, 10 s, 30 s, 60 s */
  nakBackoffMs?: readonly number[];
  /** where a throwing dead-job or cancel listener is reported */
  logger?: QueueLogger;
}

export interface InProcessQueue extends JobDispatcher {
  /** A new consumer; CP_QUEUE_UNAVAILABLE once the queue is closed. */
  source(options?: InProcessSourceOptions): InProcessJobSource;
}

export const DEFAULT_NAK_BACKOFF_MS: readonly number[] = [2_000, 10_000, 30_000, 60_000];

/** A queue with the given settings; CP_INVALID_ARGUMENT for a setting that is not a positive integer. */
export function createInProcessQueue(options: InProcessQueueOptions = {}): InProcessQueue {
  const settings = {
    ackWaitMs: options.ackWaitMs ?? 30_000,
    maxDeliver: options.maxDeliver ?? 5,
    duplicateWindowMs: options.duplicateWindowMs ?? 120_000,
  };
  for (const [key, value] of Object.entries(settings)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ControlPlaneError(
        'CP_INVALID_ARGUMENT',
        `queue setting ${key} must be a positive integer, got ${value}`,
      );
    }
  }
  const backoff = options.nakBackoffMs?.length ? options.nakBackoffMs : DEFAULT_NAK_BACKOFF_MS;
  return new Queue({ ...settings, backoff, logger: options.logger ?? SILENT_QUEUE_LOGGER });
}

interface Settings {
  ackWaitMs: number;
  maxDeliver: number;
  duplicateWindowMs: number;
  backoff: readonly number[];
  logger: QueueLogger;
}

interface Entry {
  job: ScanJobMessage;
  /** the dedup key */
  id: string;
  publishedAt: number;
  deliveries: number;
  state: 'ready' | 'delayed' | 'held';
  /** deadline of a held job, or the end of a nak delay */
  timer: NodeJS.Timeout | null;
}

class Queue implements InProcessQueue, SourceHost {
  private readonly ready = new Map<ScanPriority, Deque<Entry>>(
    SCAN_PRIORITIES.map((p) => [p, new Deque<Entry>()]),
  );
  /** jobs pending or in flight, by message id */
  private readonly entries = new Map<string, Entry>();
  /** settled message ids still inside their duplicate window → the window's end */
  private readonly recent = new Map<string, number>();
  private readonly sources = new Set<InProcessSource>();
  private readonly waiters: Waiter[] = [];
  private readonly deadListeners = new Set<(job: DeadJob) => void>();
  private held = 0;
  private closed = false;

  constructor(readonly settings: Settings) {}

  async setup(): Promise<void> {
    this.assertOpen();
  }

  async publish(jobs: readonly ScanJobMessage[]): Promise<{ published: number; duplicates: number }> {
    this.assertOpen();
    validateJobs(jobs);
    const now = Date.now();
    for (const [id, until] of this.recent) if (until <= now) this.recent.delete(id);
    let published = 0;
    for (const job of jobs) {
      const id = jobMessageId(job);
      if (this.entries.has(id) || this.recent.has(id)) continue;
      const entry: Entry = { job, id, publishedAt: now, deliveries: 0, state: 'ready', timer: null };
      this.entries.set(id, entry);
      this.ready.get(job.priority)?.push(entry);
      published++;
    }
    this.wake();
    return { published, duplicates: jobs.length - published };
  }

  async cancel(message: CancelMessage): Promise<void> {
    this.assertOpen();
    for (const source of this.sources) source.emitCancel(message);
  }

  onDeadJob(listener: (job: DeadJob) => void): () => void {
    this.deadListeners.add(listener);
    return () => {
      this.deadListeners.delete(listener);
    };
  }

  async pending(): Promise<number> {
    return this.entries.size - this.held;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.sources].map((source) => source.close()));
    for (const entry of this.entries.values()) if (entry.timer) clearTimeout(entry.timer);
    this.entries.clear();
    for (const deque of this.ready.values()) deque.clear();
    this.held = 0;
  }

  source(options: InProcessSourceOptions = {}): InProcessJobSource {
    this.assertOpen();
    const source = new InProcessSource(this, options);
    this.sources.add(source);
    return source;
  }

  /** The next job for `source` now, or null when none is ready. */
  take(source: InProcessSource): InProcessJobDelivery | null {
    for (const priority of source.order()) {
      const entry = this.ready.get(priority)?.shift();
      if (entry) {
        source.taken++;
        return this.deliver(entry, source);
      }
    }
    return null;
  }

  wait(waiter: Waiter): () => void {
    this.waiters.push(waiter);
    return () => {
      const index = this.waiters.indexOf(waiter);
      if (index >= 0) this.waiters.splice(index, 1);
    };
  }

  forget(source: InProcessSource): void {
    this.sources.delete(source);
    for (const waiter of this.waiters.filter((w) => w.source === source)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(null);
    }
  }

  report(event: string, fields: object, error: unknown): void {
    this.settings.logger.warn({ ...fields, err: error }, event);
  }

  private deliver(entry: Entry, source: InProcessSource): InProcessJobDelivery {
    entry.deliveries++;
    entry.state = 'held';
    this.held++;
    const delivery = entry.deliveries;
    const attempt = entry.job.attemptBase + delivery;
    const current = (): boolean => entry.state === 'held' && entry.deliveries === delivery && !this.closed;
    const arm = (): void => {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = setTimeout(() => this.release(entry, 0), this.settings.ackWaitMs);
    };
    arm();
    const working = (): void => {
      if (current()) arm();
    };
    const stopHeartbeat = source.heartbeat(working, this.settings.ackWaitMs);
    const settle = (then: () => void): void => {
      if (!current()) return;
      stopHeartbeat();
      then();
    };
    const { backoff } = this.settings;
    return {
      job: entry.job,
      attempt,
      lastAttempt: delivery >= this.settings.maxDeliver,
      working,
      ack: async () => settle(() => this.remove(entry)),
      nak: (delayMs) =>
        settle(() =>
          this.release(entry, delayMs ?? (backoff[Math.min(delivery, backoff.length) - 1] as number)),
        ),
      term: () => settle(() => this.remove(entry)),
    };
  }

  /** A nak or a missed deadline: redeliver after `delayMs`, or the job is dead after its last delivery. */
  private release(entry: Entry, delayMs: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    this.held--;
    if (entry.deliveries >= this.settings.maxDeliver) {
      this.remove(entry, false);
      const dead = {
        scanId: entry.job.scanId,
        deliveries: entry.deliveries,
        attemptBase: entry.job.attemptBase,
      };
      for (const listener of this.deadListeners) {
        try {
          listener(dead);
        } catch (error) {
          this.report('queue dead job listener failed', { scanId: dead.scanId }, error);
        }
      }
      return;
    }
    const requeue = (): void => {
      entry.timer = null;
      entry.state = 'ready';
      this.ready.get(entry.job.priority)?.unshift(entry);
      this.wake();
    };
    if (delayMs > 0) {
      entry.state = 'delayed';
      entry.timer = setTimeout(requeue, delayMs);
    } else requeue();
  }

  private remove(entry: Entry, wasHeld = true): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    if (wasHeld) this.held--;
    this.entries.delete(entry.id);
    const windowEnd = entry.publishedAt + this.settings.duplicateWindowMs;
    if (windowEnd > Date.now()) this.recent.set(entry.id, windowEnd);
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      const waiter = this.waiters[0] as Waiter;
      const delivery = this.take(waiter.source);
      if (!delivery) return;
      this.waiters.shift();
      waiter.resolve(delivery);
    }
  }

  private assertOpen(): void {
    if (this.closed)
      throw new ControlPlaneError('CP_QUEUE_UNAVAILABLE', 'the in-process work queue is closed');
  }
}
