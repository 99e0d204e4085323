/**
 * The doorbell a waiting source sleeps on. Every job published to the queue's subjects is also seen by a plain
 * core-NATS subscription of each source, which rings the bell: waiting `next()` calls wake and pull at once
 * instead of polling three consumers in a loop. A ring carries a hint (the job's priority) because the ring can
 * come before the stream has stored the job; the next pull on that consumer waits briefly for it.
 * Redeliveries (ack timeouts, nak delays) ring nothing, so sleepers also wake every poll interval.
 * Also the abortable waits around it: a plain delay, and a pull that an abort must not lose a job to.
 */
import type { JobPriority } from '../types.js';
import { JOB_PRIORITIES } from '../names.js';

export class Bell {
  /** increments on every ring: a sleeper that saw a change during its pull rounds looks again at once */
  generation = 0;
  private hint: JobPriority | null = null;
  private readonly sleepers = new Set<() => void>();

  /** Wakes every sleeper; `priority` (of the announced job) becomes the hint unless a higher one is pending. */
  ring(priority: JobPriority | null): void {
    this.generation++;
    if (priority && (!this.hint || JOB_PRIORITIES.indexOf(priority) < JOB_PRIORITIES.indexOf(this.hint))) {
      this.hint = priority;
    }
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  /** The hint of the rings since the last call, then none. */
  takeHint(): JobPriority | null {
    const hint = this.hint;
    this.hint = null;
    return hint;
  }

  /** Resolves on the next ring, after `ms`, or when `signal` aborts, whichever comes first. */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return pause(ms, signal, (wake) => {
      this.sleepers.add(wake);
      return () => this.sleepers.delete(wake);
    });
  }
}

/** Resolves after `ms` or when `signal` aborts (no rings). */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return pause(ms, signal, () => () => {});
}

function pause(ms: number, signal: AbortSignal, register: (wake: () => void) => () => void): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      unregister();
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
    const unregister = register(wake);
  });
}

/**
 * `work`'s result, or null as soon as `signal` aborts; a result that arrives after the abort goes to `late`
 * (a job pulled in that instant is given back at once instead of waiting out ack_wait).
 */
export function untilAborted<T>(
  work: Promise<T | null>,
  signal: AbortSignal,
  late: (value: T) => void,
): Promise<T | null> {
  if (signal.aborted) {
    work.then((value) => value && late(value)).catch(() => {});
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      resolve(null);
      work.then((value) => value && late(value)).catch(() => {});
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
