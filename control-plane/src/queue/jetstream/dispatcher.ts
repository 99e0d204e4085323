/**
 * JobDispatcher over NATS JetStream (the fleet): `setup()` creates the stream and consumers (setup.ts), `publish`
 * sends jobs with bounded in-flight acks (publish.ts), `cancel` is one core-NATS message every worker hears,
 * `onDeadJob` follows the max-deliveries advisory (dead-jobs.ts). The connection belongs to the caller
 * (connect.ts makes one that reconnects forever); `close()` leaves it open.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { ControlPlaneError, isControlPlaneError } from '../../errors.js';
import { SCAN_PRIORITIES } from '../../services/types.js';
import { cancelSubject, consumerName, queueNames, type QueueNames } from '../names.js';
import type { DeadJob, JobDispatcher } from '../types.js';
import { encodeCancel } from '../wire.js';
import { watchDeadJobs } from './dead-jobs.js';
import { SILENT_QUEUE_LOGGER, type QueueLogger } from '../logger.js';
import { DEFAULT_PUBLISH_SETTINGS, publishJobs, type PublishSettings } from './publish.js';
import { DEFAULT_QUEUE_SETTINGS, ensureQueue, type QueueSettings } from './setup.js';

export interface JetStreamDispatcherOptions
  extends Partial<QueueNames>, Partial<QueueSettings>, Partial<PublishSettings> {
  connection: NatsConnection;
  /** JetStream API request timeout (default 5 s) */
  apiTimeoutMs?: number;
  logger?: QueueLogger;
}

/** A dispatcher on `connection`; CP_INVALID_ARGUMENT for invalid names or settings. Nothing is sent until used. */
export function createJetStreamDispatcher(options: JetStreamDispatcherOptions): JobDispatcher {
  const names = queueNames({ stream: options.stream, subjectPrefix: options.subjectPrefix });
  const settings: QueueSettings = {
    ackWaitMs: options.ackWaitMs ?? DEFAULT_QUEUE_SETTINGS.ackWaitMs,
    maxDeliver: options.maxDeliver ?? DEFAULT_QUEUE_SETTINGS.maxDeliver,
    duplicateWindowMs: options.duplicateWindowMs ?? DEFAULT_QUEUE_SETTINGS.duplicateWindowMs,
    replicas: options.replicas ?? DEFAULT_QUEUE_SETTINGS.replicas,
  };
  const publishing: PublishSettings = {
    maxInFlight: options.maxInFlight ?? DEFAULT_PUBLISH_SETTINGS.maxInFlight,
    publishTimeoutMs: options.publishTimeoutMs ?? DEFAULT_PUBLISH_SETTINGS.publishTimeoutMs,
    publishRetries: options.publishRetries ?? DEFAULT_PUBLISH_SETTINGS.publishRetries,
  };
  for (const [key, value] of Object.entries({ ...settings, ...publishing })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ControlPlaneError(
        'CP_INVALID_ARGUMENT',
        `queue setting ${key} must be a positive integer, got ${value}`,
      );
    }
  }
  return new JetStreamDispatcher(options.connection, names, settings, publishing, options);
}

class JetStreamDispatcher implements JobDispatcher {
  private readonly js: JetStreamClient;
  private manager: Promise<JetStreamManager> | null = null;
  private readonly deadListeners = new Set<(job: DeadJob) => void>();
  private deadJobs: Subscription | null = null;
  private readonly logger: QueueLogger;
  private readonly apiTimeoutMs: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: QueueNames,
    private readonly settings: QueueSettings,
    private readonly publishing: PublishSettings,
    options: JetStreamDispatcherOptions,
  ) {
    this.apiTimeoutMs = options.apiTimeoutMs ?? 5_000;
    this.js = jetstream(nc, { timeout: this.apiTimeoutMs });
    this.logger = options.logger ?? SILENT_QUEUE_LOGGER;
  }

  setup(): Promise<void> {
    return unavailable(`cannot set up the work queue stream ${this.names.stream}`, async () =>
      ensureQueue(await this.jsm(), this.names, this.settings),
    );
  }

  publish(jobs: Parameters<JobDispatcher['publish']>[0]): ReturnType<JobDispatcher['publish']> {
    return publishJobs(this.js, this.names, jobs, this.publishing);
  }

  async cancel(message: Parameters<JobDispatcher['cancel']>[0]): Promise<void> {
    await unavailable('cannot send a cancel signal', async () =>
      this.nc.publish(cancelSubject(this.names), encodeCancel(message)),
    );
  }

  onDeadJob(listener: (job: DeadJob) => void): () => void {
    this.deadListeners.add(listener);
    this.deadJobs ??= watchDeadJobs(
      this.nc,
      () => this.jsm(),
      this.names,
      (job) => this.emitDead(job),
      this.logger,
    );
    return () => {
      this.deadListeners.delete(listener);
    };
  }

  pending(): Promise<number> {
    return unavailable('cannot read the work queue', async () => {
      const jsm = await this.jsm();
      const infos = await Promise.all(
        SCAN_PRIORITIES.map((p) => jsm.consumers.info(this.names.stream, consumerName(p))),
      );
      return infos.reduce((sum, info) => sum + info.num_pending, 0);
    });
  }

  async close(): Promise<void> {
    this.deadListeners.clear();
    this.deadJobs?.unsubscribe();
    this.deadJobs = null;
  }

  private emitDead(job: DeadJob): void {
    for (const listener of this.deadListeners) listener(job);
  }

  private jsm(): Promise<JetStreamManager> {
    this.manager ??= jetstreamManager(this.nc, { timeout: this.apiTimeoutMs, checkAPI: false }).catch(
      (error) => {
        this.manager = null;
        throw error;
      },
    );
    return this.manager;
  }
}

/** Runs `work`, turning anything but a ControlPlaneError into CP_QUEUE_UNAVAILABLE with `message`. */
async function unavailable<T>(message: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isControlPlaneError(error)) throw error;
    throw new ControlPlaneError('CP_QUEUE_UNAVAILABLE', `${message}: ${String(error)}`, { cause: error });
  }
}
