/**
 * The scan diff service: for a completed scan, the findings new since the previous completed scan of the same
 * content and those resolved (analytics/diff.ts has the keys and reasons). The previous scan comes from the
 * metadata store (the digest's completed scan that finished last before this one, a rematch included); the rows
 * of both from the analytics store, which counts published attempts only. Org-scoped: a foreign scan id is
 * CP_NOT_FOUND.
 */
import { ControlPlaneError } from '../errors.js';
import type { ScanDiffPage, ScanDiffQuery } from '../analytics/diff.js';
import type { AnalyticsStore } from '../analytics/types.js';
import type { ScanRecord, ScanStore } from './types.js';

/** A page of a scan's diff with the two scans compared. */
export interface ScanDiff extends ScanDiffPage {
  scan: ScanRecord;
  /** the scan compared against; null for the first completed scan of its digest (everything is new) */
  previous: ScanRecord | null;
}

export interface ScanDiffDeps {
  scans: Pick<ScanStore, 'getScan' | 'previousCompletedScan'>;
  analytics: Pick<AnalyticsStore, 'scanDiff'>;
}

/**
 * One page of the diff of `scanId`. CP_NOT_FOUND for an unknown or foreign scan, CP_SCAN_NOT_COMPLETED for a
 * scan that is not completed, CP_INVALID_ARGUMENT / CP_CURSOR_INVALID for a bad limit or cursor.
 */
export async function scanDiff(
  deps: ScanDiffDeps,
  orgId: string,
  scanId: string,
  query: ScanDiffQuery = {},
): Promise<ScanDiff> {
  const scan = await deps.scans.getScan(orgId, scanId);
  if (!scan) throw new ControlPlaneError('CP_NOT_FOUND', `scan ${scanId} not found`);
  if (scan.status !== 'completed') {
    throw new ControlPlaneError(
      'CP_SCAN_NOT_COMPLETED',
      `scan ${scanId} is ${scan.status}: only a completed scan has a diff`,
    );
  }
  const previous = await deps.scans.previousCompletedScan(orgId, scanId);
  const page = await deps.analytics.scanDiff(
    orgId,
    { scanId: scan.id, attempt: scan.attempt },
    previous && { scanId: previous.id, attempt: previous.attempt },
    query,
  );
  return { scan, previous, ...page };
}
