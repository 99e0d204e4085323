/**
 * The work queue's stream and consumers, created or brought up to date by `setup()` (idempotent).
 *
 * Stream: retention workqueue (a job is removed once acknowledged; each subject has exactly one consumer),
 * file storage (jobs survive a NATS restart), no age or count limit (a queued scan never silently expires),
 * `duplicate_window` for dedup by message id (= scan id). A job republished after the window is stored again:
 * the second copy is delivered too and the worker's ClaimJob drops it (the scan is running, finished or its
 * attempt is stale), so a late republish costs a delivery, never a second scan.
 *
 * Consumers: one durable pull consumer per priority, filtered on its subject (nats-server 2.9 has no
 * multi-filter consumers); explicit ack; `ack_wait` (the worker heartbeats every ack_wait/3 while it holds a
 * job, so ack_wait only bounds how long a dead worker's job waits); `max_deliver` bounds redelivery, after which
 * JetStream publishes a MAX_DELIVERIES advisory (see dead-jobs.ts). No consumer `backoff`: on 2.9 it replaces
 * ack_wait per delivery (and so the heartbeat period); retry delays are the worker's `nak(delay)` instead.
 */
import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { SCAN_PRIORITIES } from '../../services/types.js';
import { consumerName, jobSubject, jobSubjects, type QueueNames } from '../names.js';

export interface QueueSettings {
  /**
   * how long a delivered job may go without ack or heartbeat before it is redelivered (default 30 s; the
   * control plane's VIGIL_QUEUE_ACK_WAIT)
   */
  ackWaitMs: number;
  /** deliveries before a job is dead (default 5) */
  maxDeliver: number;
  /** dedup window for republished scan ids (default 2 min) */
  duplicateWindowMs: number;
  /** stream replicas in a NATS cluster (default 1) */
  replicas: number;
}

export const DEFAULT_QUEUE_SETTINGS: Readonly<QueueSettings> = Object.freeze({
  ackWaitMs: 30_000,
  maxDeliver: 5,
  duplicateWindowMs: 120_000,
  replicas: 1,
});

const ALREADY_IN_USE = 10058; // stream name already in use with a different configuration
const CONSUMER_NOT_FOUND = 10014;

/** Creates the stream and the three consumers, or updates the settings that may change. */
export async function ensureQueue(
  jsm: JetStreamManager,
  names: QueueNames,
  settings: QueueSettings,
): Promise<void> {
  const stream = {
    name: names.stream,
    subjects: [jobSubjects(names)],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(settings.duplicateWindowMs),
    num_replicas: settings.replicas,
  };
  try {
    await jsm.streams.add(stream);
  } catch (error) {
    if ((error as { code?: number }).code !== ALREADY_IN_USE) throw error;
    await jsm.streams.update(names.stream, stream);
  }
  for (const priority of SCAN_PRIORITIES) {
    const config = {
      durable_name: consumerName(priority),
      filter_subject: jobSubject(names, priority),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(settings.ackWaitMs),
      max_deliver: settings.maxDeliver,
    };
    const existing = await jsm.consumers.info(names.stream, config.durable_name).catch((error: unknown) => {
      if ((error as { code?: number }).code === CONSUMER_NOT_FOUND) return null;
      throw error;
    });
    if (!existing) await jsm.consumers.add(names.stream, config);
    else if (
      existing.config.ack_wait !== config.ack_wait ||
      existing.config.max_deliver !== config.max_deliver
    ) {
      await jsm.consumers.update(names.stream, config.durable_name, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
      });
    }
  }
}
