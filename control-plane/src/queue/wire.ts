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
  const ms = job.queuedAt.getTime();
  // a queuedAt before 1970 (negative seconds: ten-byte varints) is left to protobuf-es
  return ms >= 0 ? encodeScanJobDirect(job, ms) : encodeScanJobGeneric(job);
}

/** protobuf-es's encoding of a job: the reference `encodeScanJob` must match byte for byte (wire.test.ts). */
export function encodeScanJobGeneric(job: ScanJobMessage): Uint8Array {
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

const varintSize = (n: number): number => {
  let size = 1;
  for (let v = n; v >= 128; v = Math.floor(v / 128)) size += 1;
  return size;
};

function writeVarint(out: Uint8Array, at: number, n: number): number {
  let v = n;
  let i = at;
  while (v >= 128) {
    out[i++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[i++] = v;
  return i;
}

/**
 * The ScanJob's proto3 bytes written directly (field order, implicit presence and the Timestamp as protobuf-es
 * writes them), for a queuedAt from 1970 on. A bulk dispatch encodes 10,000 jobs: through `create` and
 * `toBinary` (a TextEncoder call and its outside-heap buffer per string) that took 300-600 ms on this machine,
 * about a fifth of the dispatch; here one pooled buffer per job.
 */
function encodeScanJobDirect(job: ScanJobMessage, ms: number): Uint8Array {
  const strings = [job.scanId, job.orgId, job.imageId, job.imageRef, job.digest, job.dbVersion];
  const lengths = strings.map((text) => Buffer.byteLength(text, 'utf8'));
  const priority = TO_WIRE[job.priority];
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000;
  const timestamp = (seconds !== 0 ? 1 + varintSize(seconds) : 0) + (nanos !== 0 ? 1 + varintSize(nanos) : 0);
  let size = 1 + varintSize(timestamp) + timestamp;
  for (const n of lengths) if (n > 0) size += 1 + varintSize(n) + n;
  if (priority !== 0) size += 1 + varintSize(priority);
  if (job.attemptBase !== 0) size += 1 + varintSize(job.attemptBase);
  if (job.rematch) size += 2;
  const pooled = Buffer.allocUnsafe(size);
  const out = new Uint8Array(pooled.buffer, pooled.byteOffset, size);
  let at = 0;
  for (let field = 0; field < strings.length; field++) {
    const n = lengths[field]!;
    if (n === 0) continue;
    out[at++] = ((field + 1) << 3) | 2;
    at = writeVarint(out, at, n);
    at += pooled.write(strings[field]!, at, n, 'utf8');
  }
  if (priority !== 0) {
    out[at++] = (7 << 3) | 0;
    at = writeVarint(out, at, priority);
  }
  out[at++] = (8 << 3) | 2;
  at = writeVarint(out, at, timestamp);
  if (seconds !== 0) {
    out[at++] = (1 << 3) | 0;
    at = writeVarint(out, at, seconds);
  }
  if (nanos !== 0) {
    out[at++] = (2 << 3) | 0;
    at = writeVarint(out, at, nanos);
  }
  if (job.attemptBase !== 0) {
    out[at++] = (9 << 3) | 0;
    at = writeVarint(out, at, job.attemptBase);
  }
  if (job.rematch) {
    out[at] = (10 << 3) | 0;
    out[at + 1] = 1;
  }
  return out;
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
