/**
 * Counting scans that reach a final status (`vigil_scans_finished_total` by status): a ScanStore that increments
 * the counter after each change the store itself made — a completion or failure (transitionScan), a cancel of a
 * queued or running scan (cancelScan, cancelBatch) — so every path (worker reports, uploads, dead jobs, the
 * stale-scan reaper, API cancels) counts each scan once, whichever service made the change.
 */
import { scansFinished } from '../metrics.js';
import type { ScanStore } from './types.js';
import { isFinalStatus } from './watch.js';

/** `scans` with every final status change it makes counted. */
export function countFinishedScans(scans: ScanStore): ScanStore {
  return {
    ...scans,
    async transitionScan(orgId, scanId, transition) {
      const scan = await scans.transitionScan(orgId, scanId, transition);
      if (isFinalStatus(scan.status)) scansFinished.inc({ status: scan.status });
      return scan;
    },
    async cancelScan(orgId, scanId) {
      const result = await scans.cancelScan(orgId, scanId);
      if (result.previousStatus !== 'cancelled') scansFinished.inc({ status: 'cancelled' });
      return result;
    },
    async cancelBatch(orgId, batchId) {
      const result = await scans.cancelBatch(orgId, batchId);
      if (result.cancelled.length > 0) scansFinished.inc({ status: 'cancelled' }, result.cancelled.length);
      return result;
    },
  };
}
