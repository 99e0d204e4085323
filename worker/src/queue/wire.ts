/**
 * The queue's wire format as the worker reads it: ScanJob and CancelSignal in protobuf binary
 * (proto/vigil/v1/worker.proto). Anything that does not decode to a usable message is null, never an exception:
 * the source terminates such a job instead of handing it out.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { CancelSignalSchema, ScanJobSchema } from '@vigil/proto/v1/worker_pb';
import type { CancelSignal, JobPriority, ScanJob } from './types.js';

/**
 * The job in `bytes`, or null unless it has a scan id, org id, image id, image reference and queue time.
 * The priority is the one of the consumer it came from (the subject is authoritative).
 */
export function decodeScanJob(bytes: Uint8Array, priority: JobPriority): ScanJob | null {
  try {
    const job = fromBinary(ScanJobSchema, bytes);
    if (!job.scanId || !job.orgId || !job.imageId || !job.imageRef || !job.queuedAt) return null;
    return {
      scanId: job.scanId,
      orgId: job.orgId,
      imageId: job.imageId,
      imageRef: job.imageRef,
      digest: job.digest,
      dbVersion: job.dbVersion,
      priority,
      queuedAt: timestampDate(job.queuedAt),
      attemptBase: job.attemptBase,
      ...(job.rematch ? { rematch: true } : {}),
    };
  } catch {
    return null;
  }
}

/** The cancel signal in `bytes`, or null unless it names a scan. */
export function decodeCancel(bytes: Uint8Array): CancelSignal | null {
  try {
    const signal = fromBinary(CancelSignalSchema, bytes);
    return signal.scanId ? { scanId: signal.scanId, orgId: signal.orgId, reason: signal.reason } : null;
  } catch {
    return null;
  }
}
