import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter, type Clock } from './rate-limit.js';

class FakeClock implements Clock {
  t = 0;
  sleeps: number[] = [];
  now = () => this.t;
  sleep = async (ms: number, signal?: AbortSignal) => {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.t += ms;
  };
}

describe('SlidingWindowLimiter', () => {
  it('lets 5 through per rolling 30 s and makes the rest wait for the oldest to leave', async () => {
    const clock = new FakeClock();
    const limiter = new SlidingWindowLimiter(5, 30_000, clock);
    const at: number[] = [];
    for (let i = 0; i < 12; i++) {
      await limiter.acquire();
      at.push(clock.t);
      clock.t += 1_000; // each request takes a second
    }
    // requests 1-5 at 0..4 s; the 6th waits for the 1st to be 30 s old, and so on
    expect(at).toEqual([0, 1e3, 2e3, 3e3, 4e3, 30e3, 31e3, 32e3, 33e3, 34e3, 60e3, 61e3]);
    for (const t of at) expect(at.filter((u) => u >= t && u < t + 30_000).length).toBeLessThanOrEqual(5);
  });

  it('does not wait while requests are spread out enough', async () => {
    const clock = new FakeClock();
    const limiter = new SlidingWindowLimiter(5, 30_000, clock);
    for (let i = 0; i < 10; i++) {
      await limiter.acquire();
      clock.t += 6_000;
    }
    expect(clock.sleeps).toEqual([]);
  });

  it('throws ENG_ABORTED when aborted before or while waiting', async () => {
    const clock = new FakeClock();
    const limiter = new SlidingWindowLimiter(1, 30_000, clock);
    const ac = new AbortController();
    await limiter.acquire(ac.signal);
    clock.sleep = async () => {
      ac.abort();
      throw new Error('sleep interrupted');
    };
    await expect(limiter.acquire(ac.signal)).rejects.toMatchObject({ code: 'ENG_ABORTED' });
    await expect(limiter.acquire(ac.signal)).rejects.toMatchObject({ code: 'ENG_ABORTED' });
  });
});
