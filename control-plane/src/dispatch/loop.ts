/**
 * The publisher loop: sweeps the outbox for queued scans whose publication was never confirmed and publishes
 * them, and turns dead jobs into failed scans. At start-up it sweeps everything (scans queued before a restart,
 * a bulk rescan cut short mid-batch); afterwards it sweeps periodically, leaving scans younger than `graceMs`
 * to the request that is publishing them. Duplicates are harmless: the queue drops them by scan id.
 * Each sweep first runs the stale-scan reaper (reaper.ts): running scans idle for longer than `idleMs` go back
 * to the outbox, which the same sweep then publishes, or fail once they used `maxAttempts`.
 */
import { queueDeadJobs } from '../metrics.js';
import type { JobDispatcher } from '../queue/types.js';
import type { ScanEventBus } from '../services/events.js';
import type { ServiceLogger } from '../services/logger.js';
import type { ScanOutboxStore, ScanStore } from '../services/types.js';
import { failDeadJob } from './dead-jobs.js';
import type { ScanPublisher } from './publisher.js';
import { reapIdleScans } from './reaper.js';

/** Start/stop of the loop, plus one sweep on demand. */
export interface DispatchLoop {
  /** Listens for dead jobs and publishes every unconfirmed queued scan, then keeps sweeping. Idempotent. */
  start(): Promise<void>;
  /** Stops sweeping and listening; resolves once a sweep in progress ended. */
  stop(): Promise<void>;
  /** One sweep now (`all`: regardless of age), reaper first; resolves with the number of scans published. */
  sweep(options?: { all?: boolean }): Promise<number>;
}

export interface DispatchLoopOptions {
  outbox: ScanOutboxStore;
  scans: ScanStore;
  dispatcher: JobDispatcher;
  publisher: ScanPublisher;
  events: ScanEventBus;
  logger: ServiceLogger;
  /** time between sweeps (default 5,000 ms) */
  intervalMs?: number;
  /** scans younger than this are left to their request (default 10,000 ms) */
  graceMs?: number;
  /** scans read from the outbox per round, and reaped per sweep (default 1,000) */
  pageSize?: number;
  /** a running scan without activity for this long is re-queued or failed (default {@link DEFAULT_IDLE_SCAN_MS}) */
  idleMs?: number;
  /** attempts after which an idle scan fails instead (the queue's maxDeliver) */
  maxAttempts: number;
}

/** Default of {@link DispatchLoopOptions.idleMs}: 5 minutes, far beyond the queue's ack wait and retry delays. */
export const DEFAULT_IDLE_SCAN_MS = 5 * 60_000;

/** A stopped loop. */
export function createDispatchLoop(options: DispatchLoopOptions): DispatchLoop {
  const { outbox, publisher, logger } = options;
  const intervalMs = options.intervalMs ?? 5_000;
  const graceMs = options.graceMs ?? 10_000;
  const pageSize = options.pageSize ?? 1_000;
  const reaper = {
    idleMs: options.idleMs ?? DEFAULT_IDLE_SCAN_MS,
    maxAttempts: options.maxAttempts,
    limit: pageSize,
  };
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let current: Promise<number> | undefined;
  let running = false;

  async function sweepOnce(all: boolean): Promise<number> {
    await reapIdleScans(options, reaper);
    let published = 0;
    for (;;) {
      const createdBefore = all ? undefined : new Date(Date.now() - graceMs);
      const page = await outbox.listUnpublished({
        limit: pageSize,
        ...(createdBefore ? { createdBefore } : {}),
      });
      if (page.length === 0) break;
      published += await publisher.publish(page);
      if (page.length < pageSize) break;
    }
    if (published > 0) logger.info({ published, all }, 'dispatch sweep published');
    return published;
  }

  function sweep({ all = false } = {}): Promise<number> {
    // one sweep at a time: a caller arriving during a sweep waits for it, then runs its own
    const previous = current ?? Promise.resolve(0);
    const next = previous.catch(() => 0).then(() => sweepOnce(all));
    current = next;
    void next
      .finally(() => {
        if (current === next) current = undefined;
      })
      .catch(() => {});
    return next;
  }

  function schedule(): void {
    if (!running) return;
    timer = setTimeout(() => {
      sweep()
        .catch((error: unknown) => logger.warn({ err: error }, 'dispatch sweep failed'))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  }

  return {
    async start() {
      if (running) return;
      running = true;
      unsubscribe = options.dispatcher.onDeadJob((job) => {
        queueDeadJobs.inc();
        failDeadJob(options, job).catch((error: unknown) =>
          logger.error({ err: error, scanId: job.scanId }, 'dispatch dead job failed'),
        );
      });
      await sweep({ all: true }).catch((error: unknown) =>
        logger.warn({ err: error }, 'dispatch start-up sweep failed'),
      );
      schedule();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      unsubscribe?.();
      unsubscribe = undefined;
      await current?.catch(() => 0);
    },
    sweep,
  };
}
