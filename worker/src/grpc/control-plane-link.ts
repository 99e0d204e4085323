/**
 * Riding out a control-plane outage. A call finds the control plane *unreachable* when it fails with
 * UNAVAILABLE (connection refused or dropped, or the control plane saying it cannot serve now),
 * DEADLINE_EXCEEDED (no answer in time) or a CANCELLED without a Vigil code (the server cut the call
 * short while shutting down; the worker's own cancels never get here). Anything else is an answer,
 * an error answer too.
 *
 * A job whose call found the control plane unreachable waits (`JobLink.wait`: a capped backoff, cut
 * short as soon as any call is answered) and tries again, keeping its delivery meanwhile (the consumer
 * goes on heartbeating it), so an outage costs no delivery attempts. While the last call found the
 * control plane unreachable and a job waits for it, the consumer takes no new jobs (`whenAnswering`);
 * once no job waits any more (cancelled, drained), the next job taken is the next try.
 */
import { status } from '@grpc/grpc-js';
import { rpcFailure } from './worker-client.js';

/** Whether a failed call found the control plane unreachable, rather than answered with an error. */
export function isUnreachable(error: unknown): boolean {
  const { grpcCode, vigilCode } = rpcFailure(error);
  return (
    grpcCode === status.UNAVAILABLE ||
    grpcCode === status.DEADLINE_EXCEEDED ||
    (grpcCode === status.CANCELLED && vigilCode === undefined)
  );
}

export interface ControlPlaneLinkOptions {
  /** the longest wait between two tries of a job (the waits double from 250 ms, or from this if less) */
  maxRetryMs: number;
  /** hears how many jobs wait for the control plane, whenever that changes */
  onWaiting?(jobs: number): void;
}

/** One job's calls to the control plane. */
export interface JobLink {
  /**
   * `call`'s outcome, noted: an answer (an error answer too) marks the control plane reachable and this job
   * no longer waiting; an unreachable failure marks it unreachable and this job waiting for it.
   */
  observe<T>(call: Promise<T>): Promise<T>;
  /** how long the next `wait` waits at most: the backoff of this job's unreachable failures in a row */
  readonly retryMs: number;
  /** Waits before the next try (cut short once any call is answered); false when `signal` aborted. */
  wait(signal: AbortSignal): Promise<boolean>;
  /** The job ended: it waits no more. */
  close(): void;
}

/** The control plane's reachability as the calls of one worker's jobs find it. */
export class ControlPlaneLink {
  private unreachable = false;
  private readonly waiting = new Set<object>();
  /** waits in progress (jobs' retries, the consumer's pause): woken on every change, they check again */
  private readonly wakers = new Set<() => void>();

  constructor(private readonly options: ControlPlaneLinkOptions) {}

  /** jobs waiting for the control plane now */
  get waitingJobs(): number {
    return this.waiting.size;
  }

  /** Resolves once another job may be taken: at once unless a job waits for an unreachable control plane. */
  async whenAnswering(signal: AbortSignal): Promise<void> {
    while (this.unreachable && this.waiting.size > 0 && !signal.aborted) await this.pause(undefined, signal);
  }

  /** The link of one job; `close()` it when the job ends. */
  forJob(): JobLink {
    const key = {};
    let failures = 0;
    const setWaiting = (waiting: boolean): void => {
      if (waiting === this.waiting.has(key)) return;
      if (waiting) this.waiting.add(key);
      else this.waiting.delete(key);
      this.options.onWaiting?.(this.waiting.size);
      this.wake();
    };
    const answered = (): void => {
      failures = 0;
      if (this.unreachable) {
        this.unreachable = false;
        this.wake();
      }
      setWaiting(false);
    };
    const retryMs = (): number =>
      Math.min(
        Math.min(250, this.options.maxRetryMs) * 2 ** Math.max(0, failures - 1),
        this.options.maxRetryMs,
      );
    return {
      observe: async (call) => {
        try {
          const value = await call;
          answered();
          return value;
        } catch (error) {
          if (!isUnreachable(error)) answered();
          else {
            failures++;
            this.unreachable = true;
            setWaiting(true);
          }
          throw error;
        }
      },
      get retryMs() {
        return retryMs();
      },
      wait: async (signal) => {
        const until = performance.now() + retryMs();
        while (this.unreachable && !signal.aborted) {
          const left = until - performance.now();
          if (left <= 0) break;
          await this.pause(left, signal);
        }
        return !signal.aborted;
      },
      close: () => setWaiting(false),
    };
  }

  private wake(): void {
    for (const wake of [...this.wakers]) wake();
  }

  /** Resolves after `ms` (never when undefined), on the next wake, or when `signal` aborts. */
  private pause(ms: number | undefined, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakers.delete(done);
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wakers.add(done);
    });
  }
}
