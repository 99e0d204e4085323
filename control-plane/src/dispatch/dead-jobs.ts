/**
 * Jobs that exhausted their deliveries (their workers died, or kept failing retryably): the scan fails with a
 * recorded error instead of staying `running` forever. A scan that finished meanwhile is left as it is, and so is
 * one a newer copy of the job has taken over (its attempt is past the dead copy's last one: reaper.ts).
 */
import { isControlPlaneError } from '../errors.js';
import type { DeadJob } from '../queue/types.js';
import type { ScanEventBus } from '../services/events.js';
import type { ServiceLogger } from '../services/logger.js';
import type { ScanOutboxStore, ScanRecord, ScanStore } from '../services/types.js';

/** The error code recorded on a scan whose job ran out of deliveries. */
export const WORKER_LOST_CODE = 'CP_SCAN_WORKER_LOST';

export interface DeadJobDeps {
  outbox: ScanOutboxStore;
  scans: ScanStore;
  events: ScanEventBus;
  logger: ServiceLogger;
}

/** Fails the dead job's scan if it is still queued or running; resolves with the failed scan, else null. */
export async function failDeadJob(deps: DeadJobDeps, job: DeadJob): Promise<ScanRecord | null> {
  const scan = await deps.outbox.findScan(job.scanId);
  if (!scan || (scan.status !== 'queued' && scan.status !== 'running')) return null;
  if (scan.attempt > job.attemptBase + job.deliveries) return null;
  try {
    const failed = await deps.scans.transitionScan(scan.orgId, scan.id, {
      to: 'failed',
      error: { code: WORKER_LOST_CODE, message: `worker lost after ${job.deliveries} deliveries` },
    });
    deps.events.emit(failed.orgId, { type: 'status', scan: failed });
    deps.logger.warn({ scanId: scan.id, deliveries: job.deliveries }, 'scan dead job failed');
    return failed;
  } catch (error) {
    // finished between the read and the update (its worker reported after all)
    if (isControlPlaneError(error) && error.code === 'CP_SCAN_TRANSITION_INVALID') return null;
    throw error;
  }
}
