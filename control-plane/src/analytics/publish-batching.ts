/**
 * Group commit of scan publications: completions that arrive while a publication of the same organisation is
 * being written are published together by the next one, with one count query per table and one insert per
 * table (`publishScans`) instead of two queries and two inserts each. An idle control plane publishes a lone
 * completion at once (no timer, no added latency); a busy one (a fleet completing scans side by side) writes
 * fewer, larger statements, which ClickHouse prefers and which matters most on chdb, where the npm driver runs
 * every parameterised query of the process one at a time.
 *
 * Semantics are `publishScan`'s: each caller gets its own summary. When a batch fails, its scans are published
 * again one by one, so a caller sees only its own error (a bad input of one completion never fails another).
 */
import type { AnalyticsStore, PublishScan, ScanSummary } from './types.js';

/** An analytics store with the batch form of publishScan (ClickHouseAnalyticsStore has it). */
export type BatchPublishingStore = AnalyticsStore & {
  publishScans(orgId: string, scans: readonly PublishScan[]): Promise<ScanSummary[]>;
};

export interface PublishBatchingOptions {
  /** completions per statement at most (default 64) */
  maxBatch?: number;
}

interface Waiting {
  scan: PublishScan;
  resolve: (summary: ScanSummary) => void;
  reject: (error: unknown) => void;
}

/**
 * `store` whose `publishScan` joins concurrent calls of one organisation into `publishScans` batches. Stores
 * without `publishScans` are returned as they are. Every other method delegates.
 */
export function batchPublishes<S extends AnalyticsStore>(store: S, options: PublishBatchingOptions = {}): S {
  const batching = store as S & Partial<BatchPublishingStore>;
  if (typeof batching.publishScans !== 'function') return store;
  const publishScans = batching.publishScans.bind(store);
  const publishOne = store.publishScan.bind(store);
  const maxBatch = options.maxBatch ?? 64;
  // per org: the completions waiting for the publication in progress to end
  const queues = new Map<string, Waiting[]>();

  async function drain(orgId: string, queue: Waiting[]): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      if (batch.length === 1) {
        const [one] = batch as [Waiting];
        await publishOne(orgId, one.scan).then(one.resolve, one.reject);
        continue;
      }
      try {
        const summaries = await publishScans(
          orgId,
          batch.map((w) => w.scan),
        );
        batch.forEach((w, i) => w.resolve(summaries[i]!));
      } catch {
        // one by one: each caller gets its own outcome (publishing an attempt again is a no-op)
        for (const w of batch) await publishOne(orgId, w.scan).then(w.resolve, w.reject);
      }
    }
    queues.delete(orgId);
  }

  const overrides: Partial<AnalyticsStore> = {
    publishScan(orgId, scan) {
      return new Promise<ScanSummary>((resolve, reject) => {
        const waiting = { scan, resolve, reject };
        const queue = queues.get(orgId);
        if (queue) {
          queue.push(waiting);
          return;
        }
        const fresh = [waiting];
        queues.set(orgId, fresh);
        void drain(orgId, fresh);
      });
    },
  };
  return Object.assign(Object.create(store) as S, overrides);
}
