/**
 * Progress on stderr, only when stderr is a terminal and --quiet is off: one line, rewritten.
 */
import type { ScanEvent } from '@vigil/engine/core';

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

export function progressReporter(enabled: boolean): { onEvent?: (e: ScanEvent) => void; done: () => void } {
  if (!enabled) return { done: () => undefined };
  const stream = process.stderr;
  let last = 0;
  let layersDone = 0;
  let total = 0;
  const line = (text: string) => stream.write(`\r\x1b[2K${text.slice(0, (stream.columns ?? 100) - 1)}`);
  return {
    onEvent(e) {
      const now = Date.now();
      if (e.type === 'layer-start') total = e.total;
      if (e.type === 'layer-done') {
        layersDone++;
        line(`layers ${layersDone}/${total}${e.cached ? ' (cached)' : ''} ${e.diffId.slice(7, 19)}`);
      } else if (e.type === 'layer-progress' && now - last > 100) {
        last = now;
        line(`layers ${layersDone}/${total} reading ${e.diffId.slice(7, 19)} ${mb(e.bytes)}`);
      } else if (e.type === 'walk-progress' && now - last > 100) {
        last = now;
        line(`files analyzed ${e.files}`);
      }
    },
    done: () => stream.write('\r\x1b[2K'),
  };
}
