import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressThrottle } from './progress.js';

describe('ProgressThrottle', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const record = () => {
    const sent: [string, number, number][] = [];
    const throttle = new ProgressThrottle((p) => sent.push([p.stage, Number(p.done), Number(p.total)]), 100);
    return { sent, throttle };
  };

  it('sends the first update at once, then the latest value of each stage once per interval', () => {
    const { sent, throttle } = record();
    throttle.onEvent({ type: 'layer-start', index: 0, total: 2, diffId: 'sha256:a' });
    throttle.onEvent({ type: 'layer-progress', diffId: 'sha256:a', bytes: 1000 });
    throttle.onEvent({ type: 'layer-progress', diffId: 'sha256:a', bytes: 5000 });
    throttle.onEvent({ type: 'layer-start', index: 1, total: 2, diffId: 'sha256:b' });
    throttle.onEvent({ type: 'layer-progress', diffId: 'sha256:b', bytes: 700 });
    const beforeInterval = [...sent];
    vi.advanceTimersByTime(100);
    throttle.onEvent({
      type: 'layer-done',
      index: 0,
      diffId: 'sha256:a',
      cached: false,
      files: 3,
      complete: true,
    });
    throttle.onEvent({
      type: 'layer-done',
      index: 1,
      diffId: 'sha256:b',
      cached: true,
      files: 1,
      complete: true,
    });
    throttle.flush();
    expect({ beforeInterval, all: sent }).toEqual({
      beforeInterval: [['layers', 0, 2]],
      all: [
        ['layers', 0, 2],
        ['analyze', 5700, 0],
        ['layers', 0, 2],
        ['layers', 2, 2],
      ],
    });
  });

  it('drops what is pending on close and ignores later updates', () => {
    const { sent, throttle } = record();
    throttle.update('match', 0, 10);
    throttle.update('match', 5, 10);
    throttle.close();
    throttle.update('match', 10, 10);
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([['match', 0, 10]]);
  });
});
