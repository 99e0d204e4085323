/**
 * The in-process bus of scan events: the worker service and the scan service emit status changes and progress,
 * `watchScan` listens. It only reaches watchers on the same control-plane replica; watchScan also polls
 * Postgres, so a watcher on another replica still sees every status change (progress is best effort).
 */
import type { ScanEvent } from './api.js';

/** Emits and delivers the events of scans, keyed by organisation and scan id. */
export interface ScanEventBus {
  /** Delivers synchronously to the scan's current listeners; a throwing listener does not stop the others. */
  emit(orgId: string, event: ScanEvent): void;
  /** Listens to one scan's events; returns the function that stops listening. */
  subscribe(orgId: string, scanId: string, listener: (event: ScanEvent) => void): () => void;
}

/** An empty bus. */
export function createScanEventBus(): ScanEventBus {
  const listeners = new Map<string, Set<(event: ScanEvent) => void>>();
  const keyOf = (orgId: string, scanId: string): string => `${orgId}/${scanId}`;
  return {
    emit(orgId, event) {
      const scanId = event.type === 'status' ? event.scan.id : event.scanId;
      for (const listener of listeners.get(keyOf(orgId, scanId)) ?? []) {
        try {
          listener(event);
        } catch {
          // a watcher's failure is its own; the emitter (a worker report) must not fail for it
        }
      }
    },
    subscribe(orgId, scanId, listener) {
      const key = keyOf(orgId, scanId);
      const set = listeners.get(key) ?? new Set();
      listeners.set(key, set);
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(key);
      };
    },
  };
}
