/**
 * The queue's wire format: ScanJob and CancelSignal as protobuf binary (proto/vigil/v1/worker.proto), the only
 * encoding workers accept. Also validates a job before it is published, so a malformed one never reaches a worker.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { ScanPriority as WirePriority } from '@vigil/proto/v1/scan_pb';
import { CancelSignalSchema, ScanJobSchema } from '@vigil/proto/v1/worker_pb';
import { ControlPlaneError } from '../errors.js';
import { SCAN_PRIORITIES, type ScanPriority } from '../services/types.js';
import type { CancelMessage, ScanJobMessage } from './types.js';

const TO_WIRE: Record<ScanPriority, WirePriority> = {
  manual: WirePriority.MANUAL,
  ci: WirePriority.CI,
  scheduled: WirePriority.SCHEDULED,
  rematch: WirePriority.REMATCH,
};

/**
 * CP_INVALID_ARGUMENT naming the first job that cannot be queued: no scan, org or image id, no image reference,
 * an unknown priority, no valid queuedAt or attempt base (the worker terminates such a job, so it must never be
 * published).
 */
export function validateJobs(jobs: readonly ScanJobMessage[]): void {
  jobs.forEach((job, index) => {
    const problem = !job.scanId
      ? 'has no scan id'
      : !job.orgId
        ? 'has no organisation id'
        : !job.imageId
          ? 'has no image id'
          : !job.imageRef
            ? 'has no image reference'
            : !SCAN_PRIORITIES.includes(job.priority)
              ? `has an unknown priority "${String(job.priority)}"`
              : !(job.queuedAt instanceof Date) || Number.isNaN(job.queuedAt.getTime())
                ? 'has no valid queuedAt'
                : !Number.isInteger(job.attemptBase) || job.attemptBase < 0 || job.attemptBase > 2 ** 31 - 1
                  ? 'has no valid attemptBase'
                  : null;
    if (problem)
      throw new ControlPlaneError('CP_INVALID_ARGUMENT', `scan job ${index} (${job.scanId}) ${problem}`);
  });
}

/**
 * The queue's message id of a job (JetStream `Nats-Msg-Id`, the in-process queue's dedup key): the scan id, with
 * `.<attempt base>` for a copy the stale-scan reaper re-queued, so that copy is not dropped as a duplicate of the
 * scan's first job while the dedup window lasts.
 */
export function jobMessageId(job: Pick<ScanJobMessage, 'scanId' | 'attemptBase'>): string {
  return job.attemptBase > 0 ? `${job.scanId}.${job.attemptBase}` : job.scanId;
}

export function encodeScanJob(job: ScanJobMessage): Uint8Array {
  return toBinary(
    ScanJobSchema,
    create(ScanJobSchema, {
      scanId: job.scanId,
      orgId: job.orgId,
      imageId: job.imageId,
      imageRef: job.imageRef,
      digest: job.digest,
      dbVersion: job.dbVersion,
      priority: TO_WIRE[job.priority],
      queuedAt: timestampFromDate(job.queuedAt),
      attemptBase: job.attemptBase,
      rematch: job.rematch ?? false,
    }),
  );
}

/** The job in a stored message, or null when the bytes are not a ScanJob with a scan id. */
export function decodeScanJob(bytes: Uint8Array): ScanJobMessage | null {
  try {
    const job = fromBinary(ScanJobSchema, bytes);
    const priority = SCAN_PRIORITIES.find((p) => TO_WIRE[p] === job.priority);
    if (!job.scanId || !priority) return null;
    return {
      scanId: job.scanId,
      orgId: job.orgId,
      imageId: job.imageId,
      imageRef: job.imageRef,
      digest: job.digest,
      dbVersion: job.dbVersion,
      priority,
      queuedAt: job.queuedAt ? timestampDate(job.queuedAt) : new Date(0),
      attemptBase: job.attemptBase,
      ...(job.rematch ? { rematch: true } : {}),
    };
  } catch {
    return null;
  }
}

export function encodeCancel(message: CancelMessage): Uint8Array {
  return toBinary(CancelSignalSchema, create(CancelSignalSchema, message));
}
