/**
 * The long poll of `GET /scans/{id}?wait=<seconds>`: the scan as soon as it reaches a final status, or as it is
 * when the wait elapses or the caller goes away. Built on watchScan (scan events of this replica, plus its
 * once-a-second re-read that lets a change made on another replica through), so a waiting call costs no
 * query loop of its own.
 */
import type { ScanService } from './api.js';
import type { ScanRecord } from './types.js';
import { isFinalStatus } from './watch.js';

/** The longest wait a call may ask for, in seconds; longer waits are cut to it. */
export const MAX_SCAN_WAIT_SECONDS = 60;

/**
 * The scan once final, or its latest status when `waitMs` elapses or `signal` aborts; null when the org has no
 * such scan. A scan already final is answered at once.
 */
export async function waitForScan(
  scans: Pick<ScanService, 'getScan' | 'watchScan'>,
  orgId: string,
  scanId: string,
  waitMs: number,
  signal?: AbortSignal,
): Promise<ScanRecord | null> {
  const first = await scans.getScan(orgId, scanId);
  if (!first || isFinalStatus(first.status) || waitMs <= 0) return first;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), waitMs);
  const onAbort = (): void => controller.abort();
  signal?.addEventListener('abort', onAbort);
  let last = first;
  try {
    for await (const event of scans.watchScan(orgId, scanId, controller.signal)) {
      if (event.type !== 'status') continue;
      last = event.scan;
      if (isFinalStatus(last.status)) return last;
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  return last;
}
