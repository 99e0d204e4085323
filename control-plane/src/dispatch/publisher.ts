/**
 * Publishing queued scans: jobs go to the work queue in chunks, and each chunk the queue confirmed is recorded
 * in the outbox: `published_at` of its scans, or, for a bulk rescan's pages (read in scan-id order), one mark on
 * the batch up to the chunk's last scan id (`markBatchPublished`; 0007). Recording chunk k runs while chunk k+1
 * is published (the outbox write is off the publish path), and chunk k+2 is published only after chunk k's
 * record succeeded, so a failure stops the run with at most two chunks stored and unrecorded. The publisher loop
 * sends what is left again; the queue drops duplicates by scan id (and the worker's claim any copy sent after the
 * duplicate window).
 * Every publish is counted in `vigil_queue_published_total` (ok, duplicate; failed: the jobs of a publish that
 * failed, which the outbox sends again).
 */
import { queuePublished } from '../metrics.js';
import type { JobDispatcher, ScanJobMessage } from '../queue/types.js';
import type { ScanOutboxStore, UnpublishedScan } from '../services/types.js';

/** Publishes queued scans and records the confirmation. */
export interface ScanPublisher {
  /**
   * Publishes the scans' jobs in order, chunk by chunk, marking each confirmed chunk published. Resolves with
   * the number of scans published; rejects with the first error (the dispatcher's CP_QUEUE_UNAVAILABLE, a
   * store error), having recorded every chunk but at most the last two published.
   */
  publish(scans: readonly UnpublishedScan[]): Promise<number>;
  /**
   * The same over chunks that arrive one by one. With `batch`, the chunks are the batch's queued scans read page
   * by page in scan-id order (listQueuedScans) from the first page on, and each confirmed chunk is recorded as one
   * mark on the batch (when the outbox has `markBatchPublished`; otherwise per scan).
   */
  publishChunks(
    chunks: AsyncIterable<readonly UnpublishedScan[]>,
    batch?: { orgId: string; batchId: string },
  ): Promise<number>;
  /**
   * Publishes the scans' jobs in one dispatcher call and records nothing: the caller records them (a bulk rescan's
   * early dispatch marks its batch in the transaction that inserts the scans). Rejects like `publish`.
   */
  send(scans: readonly UnpublishedScan[]): Promise<void>;
}

export interface ScanPublisherOptions {
  dispatcher: JobDispatcher;
  /** with `markBatchPublished`, a batch's chunks are recorded on the batch (one row) instead of per scan */
  outbox: ScanOutboxStore;
  /** the job's image reference for a scan's image (see ImageResolver.jobReference) */
  jobReference: (image: { repository: string; digest: string }) => string;
  /** scans per dispatcher.publish call and outbox update (default 1,000) */
  chunkSize?: number;
}

/** The job message of a queued scan. */
export function toJob(
  scan: UnpublishedScan,
  jobReference: ScanPublisherOptions['jobReference'],
): ScanJobMessage {
  return {
    scanId: scan.id,
    orgId: scan.orgId,
    imageId: scan.imageId,
    imageRef: jobReference({ repository: scan.repository, digest: scan.digest }),
    digest: scan.digest,
    dbVersion: scan.dbVersion,
    priority: scan.priority,
    queuedAt: scan.createdAt,
    // a scan re-queued by the stale-scan reaper continues its attempts (0 for a scan never claimed)
    attemptBase: scan.attempt,
  };
}

/** `dispatcher.publish(jobs)`, counted by result. */
async function publishCounted(dispatcher: JobDispatcher, jobs: ScanJobMessage[]): Promise<void> {
  try {
    const { published, duplicates } = await dispatcher.publish(jobs);
    if (published > 0) queuePublished.inc({ result: 'ok' }, published);
    if (duplicates > 0) queuePublished.inc({ result: 'duplicate' }, duplicates);
  } catch (error) {
    queuePublished.inc({ result: 'failed' }, jobs.length);
    throw error;
  }
}

/** A publisher over a dispatcher and the outbox. */
export function createScanPublisher(options: ScanPublisherOptions): ScanPublisher {
  const chunkSize = options.chunkSize ?? 1_000;

  const { outbox } = options;

  /** Records a confirmed chunk: on the batch when it is a batch's page and the outbox can, else per scan. */
  function record(chunk: readonly UnpublishedScan[], batch: { orgId: string; batchId: string } | undefined) {
    if (batch && outbox.markBatchPublished)
      return outbox.markBatchPublished(batch.orgId, batch.batchId, chunk.at(-1)!.id);
    return outbox.markPublished(chunk.map((s) => s.id));
  }

  async function publishChunks(
    chunks: AsyncIterable<readonly UnpublishedScan[]>,
    batch?: { orgId: string; batchId: string },
  ): Promise<number> {
    let published = 0;
    let recording: Promise<unknown> = Promise.resolve();
    try {
      for await (const chunk of chunks) {
        if (chunk.length === 0) continue;
        // this chunk's publish overlaps the previous chunk's record; both settle before the next chunk
        const [recorded, sent] = await Promise.allSettled([
          recording,
          publishCounted(
            options.dispatcher,
            chunk.map((s) => toJob(s, options.jobReference)),
          ),
        ]);
        if (recorded.status === 'rejected') throw recorded.reason;
        if (sent.status === 'rejected') throw sent.reason;
        recording = record(chunk, batch);
        // awaited with the next publish (or at the end); until then a failure must not count as unhandled
        recording.catch(() => {});
        published += chunk.length;
      }
    } finally {
      // the last record is awaited on success and failure alike, so no rejection goes unobserved
      await recording;
    }
    return published;
  }

  return {
    publish(scans) {
      async function* chunks() {
        for (let start = 0; start < scans.length; start += chunkSize)
          yield scans.slice(start, start + chunkSize);
      }
      return publishChunks(chunks());
    },
    publishChunks,
    send: (scans) =>
      publishCounted(
        options.dispatcher,
        scans.map((s) => toJob(s, options.jobReference)),
      ),
  };
}
