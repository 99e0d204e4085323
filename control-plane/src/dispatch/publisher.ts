/**
 * Publishing queued scans: jobs go to the work queue in chunks, and each chunk the queue confirmed is recorded
 * in the outbox (`published_at`) before the next one is sent. A failure leaves the rest unpublished for the
 * publisher loop to send again; a scan published twice is dropped by the queue (the scan id is the message id).
 */
import type { JobDispatcher, ScanJobMessage } from '../queue/types.js';
import type { ScanOutboxStore, UnpublishedScan } from '../services/types.js';

/** Publishes queued scans and records the confirmation. */
export interface ScanPublisher {
  /**
   * Publishes the scans' jobs in order, chunk by chunk, marking each confirmed chunk published. Resolves with
   * the number of scans published; rejects with the dispatcher's error (CP_QUEUE_UNAVAILABLE) on the first
   * chunk that fails, after recording the chunks before it.
   */
  publish(scans: readonly UnpublishedScan[]): Promise<number>;
}

export interface ScanPublisherOptions {
  dispatcher: JobDispatcher;
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
  };
}

/** A publisher over a dispatcher and the outbox. */
export function createScanPublisher(options: ScanPublisherOptions): ScanPublisher {
  const chunkSize = options.chunkSize ?? 1_000;
  return {
    async publish(scans) {
      let published = 0;
      for (let start = 0; start < scans.length; start += chunkSize) {
        const chunk = scans.slice(start, start + chunkSize);
        await options.dispatcher.publish(chunk.map((s) => toJob(s, options.jobReference)));
        await options.outbox.markPublished(chunk.map((s) => s.id));
        published += chunk.length;
      }
      return published;
    },
  };
}
