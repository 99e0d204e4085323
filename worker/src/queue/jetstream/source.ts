/**
 * JobSource over NATS JetStream: the three durable pull consumers the control plane set up (one per priority),
 * pulled one message at a time in priority order (priority-order.ts), so a worker only ever takes a job it has a
 * slot for and no job waits in a worker's buffer.
 *
 * Waiting: `next()` looks at the consumers with `no_wait` pulls (pull.ts); when all are empty it sleeps on a
 * doorbell (bell.ts) rung by every job published, or for `pollIntervalMs` at most (redeliveries announce
 * nothing). An idle source costs three small requests per poll interval and no CPU in between.
 * A payload that is not a valid ScanJob is terminated (`+TERM`) and logged, never handed out.
 * Cancel signals arrive on a core-NATS subscription (`<prefix>.cancel`), heard by every source.
 * The connection belongs to the caller (connect.ts makes one that reconnects forever); subscriptions survive a
 * reconnect, and a reconnect rings the bell so jobs published during the outage are found at once.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { Msg, NatsConnection, Status as StatusEvent, Subscription } from '@nats-io/transport-node';
import { JobQueueError } from '../errors.js';
import {
  cancelSubject,
  consumerName,
  JOB_PRIORITIES,
  jobSubjects,
  queueNames,
  subjectPriority,
  type QueueNames,
} from '../names.js';
import { DEFAULT_LOWER_PRIORITY_EVERY, priorityOrder } from '../priority-order.js';
import type { CancelSignal, JobDelivery, JobPriority, JobSource } from '../types.js';
import { decodeCancel, decodeScanJob } from '../wire.js';
import { Bell, delay, untilAborted } from './bell.js';
import { createDelivery, type HeldDelivery } from './delivery.js';
import { SILENT_QUEUE_LOGGER, type QueueLogger } from './logger.js';
import { parseAckSubject, pullOne } from './pull.js';

export interface JetStreamJobSourceOptions extends Partial<QueueNames> {
  connection: NatsConnection;
  /** heartbeat held jobs every ack_wait/3 until settled (default true) */
  autoHeartbeat?: boolean;
  /** longest sleep between looks at the consumers while idle (default 2 s) */
  pollIntervalMs?: number;
  /** how long a pull waits for a job the doorbell announced but the stream may not have stored yet (default 500 ms) */
  settleMs?: number;
  /** how long to wait for the server to answer a pull (default 3 s) */
  pullTimeoutMs?: number;
  /** how long `ack()` waits for the server's confirmation (default 5 s) */
  ackTimeoutMs?: number;
  /** delay of `nak()` without a delay, by attempt (the last repeats); default 2 s, 10 s, 30 s, 60 s */
  nakBackoffMs?: readonly number[];
  /** see priority-order.ts (default 10; 0 = strict priority) */
  lowerPriorityEvery?: number;
  logger?: QueueLogger;
}

export const DEFAULT_NAK_BACKOFF_MS: readonly number[] = [2_000, 10_000, 30_000, 60_000];

type Status = 'connected' | 'disconnected' | 'reconnecting';

interface ConsumerSettings {
  ackWaitMs: number;
  maxDeliver: number;
}

/** A source on `connection`; JobQueueError `invalid-options` for invalid names or settings. */
export function createJetStreamJobSource(options: JetStreamJobSourceOptions): JobSource {
  const timing = {
    pollIntervalMs: options.pollIntervalMs ?? 2_000,
    settleMs: options.settleMs ?? 500,
    pullTimeoutMs: options.pullTimeoutMs ?? 3_000,
    ackTimeoutMs: options.ackTimeoutMs ?? 5_000,
  };
  for (const [key, value] of Object.entries(timing)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new JobQueueError(
        'invalid-options',
        `queue setting ${key} must be a positive integer, got ${value}`,
      );
    }
  }
  return new JetStreamJobSource(options, queueNames(options), timing);
}

class JetStreamJobSource implements JobSource {
  private readonly nc: NatsConnection;
  private readonly logger: QueueLogger;
  private readonly bell = new Bell();
  private readonly closing = new AbortController();
  private readonly held = new Set<HeldDelivery>();
  private readonly cancelListeners = new Set<(signal: CancelSignal) => void>();
  private readonly statusListeners = new Set<(status: Status) => void>();
  private readonly subscriptions: Subscription[];
  private statusLoop: { stop(): void } | null = null;
  private consumers: Promise<Map<JobPriority, ConsumerSettings>> | null = null;
  private taken = 0;
  private failing = false;
  /**
   * false between a disconnect and the reconnect: no pulls then, because nats.js would send the buffered pull
   * requests after reconnecting, when their inboxes are gone, and each job answered there would wait out ack_wait
   */
  private connected = true;

  constructor(
    private readonly options: JetStreamJobSourceOptions,
    private readonly names: QueueNames,
    private readonly timing: {
      pollIntervalMs: number;
      settleMs: number;
      pullTimeoutMs: number;
      ackTimeoutMs: number;
    },
  ) {
    this.nc = options.connection;
    this.logger = options.logger ?? SILENT_QUEUE_LOGGER;
    this.subscriptions = [
      this.nc.subscribe(jobSubjects(names), {
        callback: (_error, msg) => this.bell.ring(subjectPriority(names, msg.subject)),
      }),
      this.nc.subscribe(cancelSubject(names), { callback: (_error, msg) => this.emitCancel(msg) }),
    ];
    this.watchStatus((status) => {
      this.connected = status === 'connected';
      if (this.connected) this.bell.ring(null);
    });
  }

  async next(signal: AbortSignal): Promise<JobDelivery | null> {
    const stop = AbortSignal.any([signal, this.closing.signal]);
    while (!stop.aborted) {
      const seen = this.bell.generation;
      let found: HeldDelivery | null;
      try {
        found = await untilAborted(this.round(this.bell.takeHint(), stop), stop, (late) =>
          late.delivery.nak(0),
        );
      } catch (error) {
        if (stop.aborted) break;
        // once per streak of failures (NATS down, queue not set up yet), not once per poll
        if (!this.failing) this.logger.warn({ stream: this.names.stream, err: error }, 'queue pull failed');
        this.failing = true;
        // disconnected: the reconnect rings the bell; otherwise (queue not set up) rings must not spin the loop
        if (this.connected) await delay(this.timing.pollIntervalMs, stop);
        else await this.bell.sleep(this.timing.pollIntervalMs, stop);
        continue;
      }
      this.failing = false;
      if (found) return found.delivery;
      if (!stop.aborted && this.bell.generation === seen)
        await this.bell.sleep(this.timing.pollIntervalMs, stop);
    }
    return null;
  }

  onCancel(listener: (signal: CancelSignal) => void): () => void {
    this.cancelListeners.add(listener);
    return () => {
      this.cancelListeners.delete(listener);
    };
  }

  onStatus(listener: (status: Status) => void): () => void {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.statusLoop?.stop();
    for (const held of this.held) held.abandon();
    this.held.clear();
  }

  /** One look at the consumers in priority order; the first valid job, or null when all are empty or `stop` aborts. */
  private async round(hint: JobPriority | null, stop: AbortSignal): Promise<HeldDelivery | null> {
    if (!this.connected) throw new JobQueueError('unavailable', 'not connected to NATS');
    const consumers = await this.consumerSettings();
    for (const priority of priorityOrder(
      this.taken,
      this.options.lowerPriorityEvery ?? DEFAULT_LOWER_PRIORITY_EVERY,
    )) {
      let expiresMs = priority === hint ? this.timing.settleMs : undefined;
      while (!stop.aborted) {
        const msg = await pullOne(this.nc, {
          stream: this.names.stream,
          consumer: consumerName(priority),
          expiresMs,
          timeoutMs: this.timing.pullTimeoutMs,
        });
        if (!msg) break;
        const held = this.accept(msg, priority, consumers.get(priority) as ConsumerSettings);
        if (held) {
          this.taken++;
          return held;
        }
        expiresMs = undefined; // a terminated payload: look at the same consumer again
      }
      if (stop.aborted) return null;
    }
    return null;
  }

  /** The delivery of a pulled message, or null after terminating a payload that is not a valid job. */
  private accept(msg: Msg, priority: JobPriority, consumer: ConsumerSettings): HeldDelivery | null {
    const ack = parseAckSubject(msg.reply as string);
    const job = decodeScanJob(msg.data, priority);
    if (!ack || !job) {
      this.logger.warn(
        { stream: this.names.stream, subject: msg.subject, seq: ack?.streamSeq, bytes: msg.data.length },
        'queue job undecodable',
      );
      msg.respond(new TextEncoder().encode('+TERM'));
      return null;
    }
    const held: HeldDelivery = createDelivery(
      this.nc,
      msg,
      job,
      ack.deliveryCount,
      {
        ...consumer,
        autoHeartbeat: this.options.autoHeartbeat ?? true,
        nakBackoffMs: this.options.nakBackoffMs?.length ? this.options.nakBackoffMs : DEFAULT_NAK_BACKOFF_MS,
        ackTimeoutMs: this.timing.ackTimeoutMs,
        logger: this.logger,
      },
      () => this.held.delete(held),
    );
    this.held.add(held);
    return held;
  }

  /** ack_wait and max_deliver of the three consumers, read once (they only change when the control plane's do). */
  private consumerSettings(): Promise<Map<JobPriority, ConsumerSettings>> {
    this.consumers ??= (async () => {
      const jsm = await jetstreamManager(this.nc, { checkAPI: false, timeout: this.timing.pullTimeoutMs });
      const infos = await Promise.all(
        JOB_PRIORITIES.map((priority) => jsm.consumers.info(this.names.stream, consumerName(priority))),
      );
      return new Map(
        infos.map((info, i) => [
          JOB_PRIORITIES[i] as JobPriority,
          {
            ackWaitMs: Math.round((info.config.ack_wait ?? 30e9) / 1_000_000),
            maxDeliver: info.config.max_deliver ?? -1,
          },
        ]),
      );
    })().catch((error: unknown) => {
      this.consumers = null;
      throw new JobQueueError(
        'unavailable',
        `cannot read the consumers of stream ${this.names.stream} (has the control plane set up the queue?)`,
        { cause: error },
      );
    });
    return this.consumers;
  }

  private emitCancel(msg: Msg): void {
    const signal = decodeCancel(msg.data);
    if (!signal) {
      this.logger.warn({ subject: msg.subject, bytes: msg.data.length }, 'queue cancel undecodable');
      return;
    }
    for (const listener of this.cancelListeners) {
      try {
        listener({ ...signal });
      } catch (error) {
        this.logger.warn({ scanId: signal.scanId, err: error }, 'queue cancel listener failed');
      }
    }
  }

  /** Follows the connection's status for the source's lifetime; listeners hear each change once. */
  private watchStatus(internal: (status: Status) => void): void {
    // nats.js returns a QueuedIterator, whose stop() ends the loop (typed only as AsyncIterable)
    const iterator = this.nc.status() as AsyncIterable<StatusEvent> & { stop?: () => void };
    this.statusLoop = { stop: () => iterator.stop?.() };
    let last: Status = 'connected';
    void (async () => {
      for await (const event of iterator) {
        const status: Status | null =
          event.type === 'disconnect'
            ? 'disconnected'
            : event.type === 'reconnecting'
              ? 'reconnecting'
              : event.type === 'reconnect'
                ? 'connected'
                : null;
        if (!status || status === last) continue;
        last = status;
        internal(status);
        for (const listener of this.statusListeners) listener(status);
      }
    })();
  }
}
