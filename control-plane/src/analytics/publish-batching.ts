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
 *
 * Inserts of appended rows (`insertPrepared`, behind appendBatch, appendInventory / appendFindings and
 * storeAttemptRows) are joined the same way, across orgs (rows carry their org): calls arriving while an append is
 * being inserted go out together in the next one, one insert per table. On chdb every insert is a new part in each
 * table (and in finding_ids through its view), a directory of about ten files merged later, so fewer inserts is
 * less work now and less merging after. Each
 * caller's rows are checked on their own when it calls (a bad input rejects only its caller). An insert that fails
 * rejects every caller joined in it and is not retried: part of the rows may have been written, and a caller's
 * attempt with a failed append is never published (its report fails; the redelivered job writes a new attempt).
 */
import type { PreparedAppend } from './store.js';
import type { AnalyticsStore, PublishScan, ScanSummary } from './types.js';

/**
 * The prepared form of appendBatch: appends checked apart and inserted together. ClickHouseAnalyticsStore checks
 * every caller's rows (`prepareAppend`) before it calls `this.insertPrepared`, the method joined here (internal to
 * the ClickHouse store and this module, so not part of the AnalyticsStore contract).
 */
interface PreparedAppends {
  insertPrepared(prepared: readonly PreparedAppend[]): Promise<void>;
}

const hasPreparedAppends = (store: AnalyticsStore): store is AnalyticsStore & PreparedAppends =>
  typeof (store as Partial<PreparedAppends>).insertPrepared === 'function';

export interface PublishBatchingOptions {
  /** completions per statement at most (default 64) */
  maxBatch?: number;
  /** rows (packages + findings) per joined append at most (default 20,000; a larger append goes alone) */
  maxAppendRows?: number;
}

interface Waiting {
  scan: PublishScan;
  resolve: (summary: ScanSummary) => void;
  reject: (error: unknown) => void;
}

interface WaitingAppend {
  prepared: readonly PreparedAppend[];
  rows: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * `store` whose `publishScan` joins concurrent calls of one organisation into `publishScans` batches, and whose
 * `insertPrepared` joins concurrent inserts of appended rows (when the store has that form). Stores without
 * `publishScans` are returned as they are. Every other method delegates (called on the returned object, the
 * store's own methods reach the joined `insertPrepared` through `this`).
 */
export function batchPublishes<S extends AnalyticsStore>(store: S, options: PublishBatchingOptions = {}): S {
  if (!store.publishScans) return store;
  const publishScans = store.publishScans.bind(store);
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
  const joined: Partial<PreparedAppends> = hasPreparedAppends(store)
    ? { insertPrepared: joinInserts(store.insertPrepared.bind(store), options.maxAppendRows ?? 20_000) }
    : {};
  return Object.assign(Object.create(store) as S, overrides, joined);
}

/** insertPrepared joining the calls that arrive while an insert runs into the next insert. */
function joinInserts(
  insert: PreparedAppends['insertPrepared'],
  maxRows: number,
): PreparedAppends['insertPrepared'] {
  // the appends waiting for the insert in progress to end; null when none is in progress
  let queue: WaitingAppend[] | null = null;

  async function drain(waiting: WaitingAppend[]): Promise<void> {
    while (waiting.length > 0) {
      let rows = 0;
      let take = 0;
      while (take < waiting.length && (take === 0 || rows + waiting[take]!.rows <= maxRows)) {
        rows += waiting[take]!.rows;
        take += 1;
      }
      const batch = waiting.splice(0, take);
      try {
        await insert(batch.flatMap((w) => w.prepared));
        for (const w of batch) w.resolve();
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    queue = null;
  }

  return (prepared) =>
    new Promise<void>((resolve, reject) => {
      const waiting = {
        prepared,
        rows: prepared.reduce((n, p) => n + p.packages.length + p.findings.length, 0),
        resolve,
        reject,
      };
      if (queue) {
        queue.push(waiting);
        return;
      }
      queue = [waiting];
      void drain(queue);
    });
}
