/**
 * A sliding-window request limiter: at most `limit` acquisitions in any half-open window
 * [t, t + windowMs). NVD's public limits are 5 requests per rolling 30 s without an API key and
 * 50 with one (https://nvd.nist.gov/developers/start-here, "Rate Limits").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { throwIfAborted } from '../../errors.js';

/** Time source and sleep, injectable so tests run on fake time. */
export interface Clock {
  /** milliseconds since the epoch */
  now(): number;
  /** resolves after `ms` (rejects when `signal` aborts) */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Wall-clock time and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

export class SlidingWindowLimiter {
  /** start times of the last `limit` acquisitions, oldest first */
  private readonly recent: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(limit >= 1) || !(windowMs >= 0)) throw new RangeError('limit must be ≥ 1 and windowMs ≥ 0');
  }

  /**
   * Waits until one more request fits in the window, then records it. Throws ENG_ABORTED when
   * `signal` aborts (before or while waiting).
   */
  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      throwIfAborted(signal);
      const now = this.clock.now();
      if (this.recent.length < this.limit) {
        this.recent.push(now);
        return;
      }
      const wait = this.recent[0]! + this.windowMs - now;
      if (wait <= 0) {
        this.recent.shift();
        continue;
      }
      try {
        await this.clock.sleep(wait, signal);
      } catch (e) {
        throwIfAborted(signal);
        throw e;
      }
    }
  }
}
