/**
 * The generic job loop over a JobSource: at most `concurrency` jobs at once (the next delivery is
 * asked for only when a slot is free), a `working()` heartbeat while a job runs, cancel signals
 * routed to the running job's AbortController, and the handler's disposition turned into ack or
 * nak. Before asking for a job the loop waits until `ready` lets it (run-worker: not while jobs wait
 * for an unreachable control plane). Draining stops taking jobs, waits for the running ones up to a
 * timeout, then stops them (they give their jobs back for redelivery).
 */
import type { Logger } from 'pino';
import type { MetricsRecorder } from './metrics.js';
import type { CancelSignal, JobDelivery, JobSource } from './queue/types.js';
import type { Disposition, JobStop } from './jobs/types.js';

export interface ConsumerOptions {
  source: JobSource;
  concurrency: number;
  /** interval of `delivery.working()` while a job runs */
  heartbeatMs: number;
  /** pause after `source.next` failed, before asking again */
  nextRetryMs: number;
  /** resolves when another job may be taken, or once `signal` aborts (default: at once) */
  ready?(signal: AbortSignal): Promise<void>;
  handle(delivery: JobDelivery, signal: AbortSignal): Promise<Disposition>;
  metrics: MetricsRecorder;
  logger: Logger;
}

interface RunningJob {
  delivery: JobDelivery;
  controller: AbortController;
  /** performance.now() of the cancel signal that stopped it */
  cancelledAt?: number;
  settled: Promise<void>;
}

export class Consumer {
  private readonly running = new Set<RunningJob>();
  private readonly taking = new AbortController();
  private wake: () => void = () => {};
  private readonly unsubscribe: () => void;
  /** resolves when the loop stopped taking jobs and every job it took has settled */
  readonly done: Promise<void>;

  constructor(private readonly options: ConsumerOptions) {
    this.unsubscribe = options.source.onCancel((signal) => this.cancel(signal));
    this.done = this.loop().finally(() => this.unsubscribe());
  }

  /**
   * Stops taking jobs, lets the running ones finish within `timeoutMs`, then stops the rest (each
   * gives its job back). Resolves once every job has settled.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.taking.abort();
    this.wake();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.idle(), timeout]);
    clearTimeout(timer);
    for (const job of this.running) this.stopJob(job, { kind: 'shutdown' });
    await this.done;
  }

  private idle(): Promise<void> {
    return Promise.all([...this.running].map((job) => job.settled)).then(() => undefined);
  }

  private stopJob(job: RunningJob, stop: JobStop): void {
    if (!job.controller.signal.aborted) job.controller.abort(stop);
  }

  private cancel(signal: CancelSignal): void {
    for (const job of this.running) {
      const { scanId, orgId } = job.delivery.job;
      if (scanId !== signal.scanId || (signal.orgId && orgId && signal.orgId !== orgId)) continue;
      if (job.controller.signal.aborted) continue;
      job.cancelledAt = performance.now();
      this.options.logger.info({ scanId, reason: signal.reason }, 'job cancel received');
      this.stopJob(job, { kind: 'cancel', reason: signal.reason });
    }
  }

  private async loop(): Promise<void> {
    const { source, concurrency, logger } = this.options;
    const signal = this.taking.signal;
    while (!signal.aborted) {
      if (this.running.size >= concurrency) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      await this.options.ready?.(signal);
      if (signal.aborted) break;
      let delivery: JobDelivery | null;
      try {
        delivery = await source.next(signal);
      } catch (error) {
        if (signal.aborted) break;
        logger.warn({ err: error }, 'queue next failed');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.nextRetryMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      if (!delivery) break;
      if (signal.aborted) {
        // taken while the drain began: give it straight back
        delivery.nak(0);
        break;
      }
      this.launch(delivery);
    }
    await this.idle();
  }

  private launch(delivery: JobDelivery): void {
    const { metrics, logger, heartbeatMs } = this.options;
    const controller = new AbortController();
    const heartbeat = setInterval(() => {
      try {
        delivery.working();
      } catch (error) {
        // a lost connection: the settle at the end reports it; the scan goes on meanwhile
        logger.warn({ err: error, scanId: delivery.job.scanId }, 'job heartbeat failed');
      }
    }, heartbeatMs);
    metrics.started();
    const job: RunningJob = { delivery, controller, settled: Promise.resolve() };
    job.settled = this.options
      .handle(delivery, controller.signal)
      .catch((error: unknown): Disposition => {
        logger.error({ err: error, scanId: delivery.job.scanId }, 'job handler failed');
        return { outcome: 'requeued', delayMs: this.options.nextRetryMs };
      })
      .then(async (disposition) => {
        clearInterval(heartbeat);
        try {
          if ('delayMs' in disposition) delivery.nak(disposition.delayMs);
          else await delivery.ack();
        } catch (error) {
          metrics.settleError();
          logger.warn({ err: error, scanId: delivery.job.scanId }, 'job settle failed');
        }
        const stopMs =
          job.cancelledAt !== undefined && disposition.outcome === 'cancelled'
            ? performance.now() - job.cancelledAt
            : undefined;
        metrics.finished(disposition.outcome, stopMs);
      })
      .finally(() => {
        this.running.delete(job);
        this.wake();
      });
    this.running.add(job);
  }
}
