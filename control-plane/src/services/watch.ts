/**
 * watchScan: the scan's current status, then every status change and progress event until a final status.
 * Events come from the in-process bus (fed by the worker service on this replica); the scan is also re-read
 * from Postgres every `pollMs`, so a watcher on another replica still sees each status change, the final one
 * included. Status events are deduplicated by (status, attempt), so bus and poll never repeat one.
 */
import { ControlPlaneError } from '../errors.js';
import type { ScanEvent } from './api.js';
import type { ScanEventBus } from './events.js';
import type { ScanRecord, ScanStatus, ScanStore } from './types.js';

const FINAL: ReadonlySet<ScanStatus> = new Set(['completed', 'failed', 'cancelled']);

/** True for completed, failed and cancelled: the scan never changes again. */
export function isFinalStatus(status: ScanStatus): boolean {
  return FINAL.has(status);
}

export interface WatchDeps {
  scans: Pick<ScanStore, 'getScan'>;
  events: ScanEventBus;
  pollMs: number;
}

/** The events of one scan. CP_NOT_FOUND (thrown on first iteration) for a scan of another org or none. */
export async function* watchScanEvents(
  deps: WatchDeps,
  orgId: string,
  scanId: string,
  signal: AbortSignal,
): AsyncGenerator<ScanEvent> {
  const pending: ScanEvent[] = [];
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  // subscribe before the first read, so a change between the two is not missed
  const unsubscribe = deps.events.subscribe(orgId, scanId, (event) => {
    pending.push(event);
    notify();
  });
  signal.addEventListener('abort', notify);
  let last: ScanRecord | null = null;
  // a change the watcher has not seen, and not older than the last one it saw
  const isNew = (scan: ScanRecord): boolean =>
    last === null ||
    ((scan.status !== last.status || scan.attempt !== last.attempt) && scan.updatedAt >= last.updatedAt);
  try {
    const first = await deps.scans.getScan(orgId, scanId);
    if (!first) throw new ControlPlaneError('CP_NOT_FOUND', `scan ${scanId} not found`);
    last = first;
    yield { type: 'status', scan: first };
    while (!isFinalStatus(last.status) && !signal.aborted) {
      if (pending.length === 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(notify, deps.pollMs);
        });
        clearTimeout(timer);
        if (signal.aborted) return;
        if (pending.length === 0) {
          const polled = await deps.scans.getScan(orgId, scanId);
          if (polled && isNew(polled)) pending.push({ type: 'status', scan: polled });
        }
      }
      const event = pending.shift();
      if (!event) continue;
      if (event.type === 'progress') {
        yield event;
      } else if (isNew(event.scan)) {
        last = event.scan;
        yield event;
      }
    }
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', notify);
  }
}
