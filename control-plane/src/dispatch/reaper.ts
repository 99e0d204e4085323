/**
 * The stale-scan reaper: running scans whose worker *and* job are gone, which the queue alone never notices.
 *
 * Why: a running scan normally ends through its worker's report, or through the queue (a dead worker's job is
 * redelivered as the next attempt, and a job out of deliveries fails its scan, dead-jobs.ts). After a NATS server
 * crash, though, JetStream may redeliver a job with a LOWER delivery count than the scan's current attempt; the
 * claim drops such a stale attempt (the worker acknowledges it), and if the current attempt's worker is gone too,
 * nothing would ever end the scan.
 *
 * How: every running attempt shows signs of life in Postgres (`active_at`: its claim, its report stream's start,
 * and the worker service's refreshes while that stream is open). A scan idle for longer than `idleMs` — several
 * refresh intervals and well beyond the queue's ack wait and retry delays, so a live worker or a pending
 * redelivery always gets there first — goes back to `queued` (unpublished) with its attempt count kept. The
 * dispatch loop then publishes it as a new copy of the job whose attempt base is that count (message id
 * `<scan id>.<base>`, so JetStream's dedup window does not swallow it), so the new attempts are higher than every
 * attempt before and every old copy's claim stays stale. Once a scan has used `maxAttempts`, it fails with
 * CP_SCAN_WORKER_LOST instead. Results cannot double: they are published per attempt and only the current
 * attempt's completion counts. Both changes are guarded by the attempt (the re-queue also by its idleness), so a
 * worker that claimed or reported in between keeps its scan.
 */
import { isControlPlaneError } from '../errors.js';
import type { ScanEventBus } from '../services/events.js';
import type { ServiceLogger } from '../services/logger.js';
import type { ScanOutboxStore, ScanRecord, ScanStore } from '../services/types.js';
import { WORKER_LOST_CODE } from './dead-jobs.js';

export interface ReaperDeps {
  outbox: ScanOutboxStore;
  scans: ScanStore;
  events: ScanEventBus;
  logger: ServiceLogger;
}

export interface ReaperOptions {
  /** a running attempt without activity for this long has lost its worker */
  idleMs: number;
  /** attempts after which an idle scan fails instead of being re-queued (the queue's maxDeliver) */
  maxAttempts: number;
  /** scans handled per call */
  limit: number;
}

/** What one pass did. */
export interface ReapResult {
  requeued: number;
  failed: number;
}

/** Re-queues or fails the running scans idle for longer than `idleMs` (one page of them). */
export async function reapIdleScans(deps: ReaperDeps, options: ReaperOptions): Promise<ReapResult> {
  const idleBefore = new Date(Date.now() - options.idleMs);
  const idle = await deps.outbox.listIdle({ idleBefore, limit: options.limit });
  const result: ReapResult = { requeued: 0, failed: 0 };
  for (const scan of idle) {
    const next = await reapOne(deps, scan, idleBefore, options);
    if (!next) continue;
    result[next.status === 'queued' ? 'requeued' : 'failed']++;
    deps.events.emit(next.orgId, { type: 'status', scan: next });
    deps.logger.warn(
      { scanId: scan.id, attempt: scan.attempt, status: next.status, idleMs: options.idleMs },
      'scan idle reaped',
    );
  }
  return result;
}

/** The scan re-queued or failed, or null when it moved on since it was listed (finished, claimed, active). */
async function reapOne(
  deps: ReaperDeps,
  scan: ScanRecord,
  idleBefore: Date,
  options: ReaperOptions,
): Promise<ScanRecord | null> {
  try {
    if (scan.attempt < options.maxAttempts) {
      return await deps.scans.transitionScan(scan.orgId, scan.id, {
        to: 'queued',
        attempt: scan.attempt,
        idleBefore,
      });
    }
    return await deps.scans.transitionScan(scan.orgId, scan.id, {
      to: 'failed',
      attempt: scan.attempt,
      error: {
        code: WORKER_LOST_CODE,
        message: `worker lost: attempt ${scan.attempt} of ${options.maxAttempts} showed no activity for ${Math.round(options.idleMs / 1_000)} s`,
      },
    });
  } catch (error) {
    if (
      isControlPlaneError(error) &&
      ['CP_SCAN_TRANSITION_INVALID', 'CP_SCAN_ATTEMPT_STALE'].includes(error.code)
    )
      return null;
    throw error;
  }
}
