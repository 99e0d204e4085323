/**
 * Completing a scan, shared by worker reports and CLI uploads. The order makes a crash between the two stores
 * safe: the analytics store publishes the attempt first (idempotent: publishing it again is a no-op), then
 * Postgres marks the scan completed with the published summary on every image of the digest. A crash in
 * between leaves the scan running with its rows visible; the redelivered job (a higher attempt) publishes
 * again and completes it, so a scan is never `completed` without visible rows.
 */
import type { OsRelease } from '@vigil/engine/core';
import type { AttemptCounts } from '../analytics/attempt-counts.js';
import type { AnalyticsStore, AttemptContents } from '../analytics/types.js';
import type { ImageStore, ScanRecord, ScanStore } from './types.js';

export interface CompletionDeps {
  analytics: AnalyticsStore;
  images: ImageStore;
  scans: ScanStore;
}

/**
 * Publishes `attempt` of a running scan (with `counted`, its counts taken while its rows were appended, and
 * `contents`, where storeAttemptRows put its rows, when the caller has them) and completes it. Rejects with the analytics store's errors (nothing
 * changed in Postgres) or transitionScan's (CP_SCAN_TRANSITION_INVALID when the scan was cancelled meanwhile,
 * CP_SCAN_ATTEMPT_STALE when a newer attempt took over).
 */
export async function completeScan(
  deps: CompletionDeps,
  scan: ScanRecord,
  attempt: number,
  os: OsRelease | null,
  counted?: AttemptCounts,
  contents?: AttemptContents,
): Promise<ScanRecord> {
  const imageIds = await deps.images.imageIdsByDigest(scan.orgId, scan.digest);
  const summary = await deps.analytics.publishScan(scan.orgId, {
    scanId: scan.id,
    attempt,
    digest: scan.digest,
    imageIds,
    completedAt: new Date(),
    os,
    ...(counted ? { counted } : {}),
    ...(contents ? { contents } : {}),
  });
  return deps.scans.transitionScan(scan.orgId, scan.id, {
    to: 'completed',
    attempt,
    summary: { counts: summary.counts, fixable: summary.fixable, packages: summary.packages, os: summary.os },
  });
}
