/**
 * Scan progress for the Report stream, throttled: the engine emits an event per layer chunk, the
 * control plane needs a few updates a second at most. Stages and their units:
 * - `layers`: layers done of the image's layers (cached ones count as done);
 * - `analyze`: uncompressed layer bytes read so far (total 0: unknown before the end);
 * - `match`: packages matched of the inventory's packages.
 * The latest value of each stage is kept; at most one batch goes out per interval, and a trailing
 * batch follows the last change, so the final numbers are always sent.
 */
import { create } from '@bufbuild/protobuf';
import type { ScanEvent } from '@vigil/engine/core';
import { ScanProgressSchema, type ScanProgress } from '@vigil/proto/v1/scan_pb';

export const PROGRESS_STAGES = ['layers', 'analyze', 'match'] as const;
export type ProgressStage = (typeof PROGRESS_STAGES)[number];

export class ProgressThrottle {
  private readonly pending = new Map<ProgressStage, ScanProgress>();
  private lastSent = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  // per-layer byte counts (events carry a running count per layer)
  private readonly layerBytes = new Map<string, number>();
  private layersDone = 0;
  private layerTotal = 0;

  constructor(
    private readonly send: (progress: ScanProgress) => void,
    private readonly intervalMs: number,
  ) {}

  /** Records the latest value of a stage. */
  update(stage: ProgressStage, done: number, total: number): void {
    if (this.closed) return;
    this.pending.set(stage, create(ScanProgressSchema, { stage, done: BigInt(done), total: BigInt(total) }));
    const wait = this.lastSent + this.intervalMs - performance.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  /** Engine scan events → stage values. */
  readonly onEvent = (event: ScanEvent): void => {
    if (event.type === 'layer-start') {
      this.layerTotal = event.total;
      this.update('layers', this.layersDone, this.layerTotal);
    } else if (event.type === 'layer-done') {
      this.layersDone++;
      this.update('layers', this.layersDone, Math.max(this.layerTotal, this.layersDone));
    } else if (event.type === 'layer-progress') {
      this.layerBytes.set(event.diffId, event.bytes);
      let bytes = 0;
      for (const b of this.layerBytes.values()) bytes += b;
      this.update('analyze', bytes, 0);
    }
  };

  /** Sends what is pending now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || this.pending.size === 0) return;
    this.lastSent = performance.now();
    for (const progress of this.pending.values()) this.send(progress);
    this.pending.clear();
  }

  /** Drops anything pending; later updates are ignored. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.closed = true;
    this.pending.clear();
  }
}
