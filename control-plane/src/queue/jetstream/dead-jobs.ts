/**
 * Dead jobs: JetStream publishes `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>` when it gives
 * up on a message (its last delivery was nak'd or timed out). The advisory names only the stream sequence, so the
 * job is read back from the stream: on a workqueue stream the message is still there, because it was never
 * acknowledged (verified on nats-server 2.9.10). After the listeners heard of it the message is deleted, or the
 * stream would keep it forever.
 *
 * Advisories are core NATS (at-most-once): one missed while no control plane listens leaves its scan to the
 * scheduler's stale-scan handling. Control planes subscribe in one queue group, so each dead job is reported once.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { consumerPriority, type QueueNames } from '../names.js';
import type { DeadJob } from '../types.js';
import { decodeScanJob } from '../wire.js';
import type { QueueLogger } from '../logger.js';

/** The fields of io.nats.jetstream.advisory.v1.max_deliver this module reads. */
interface MaxDeliveriesAdvisory {
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

const QUEUE_GROUP = 'vigil-dead-jobs';

/** Subscribes to the stream's max-deliveries advisories; `emit` gets each dead job of the queue's consumers. */
export function watchDeadJobs(
  nc: NatsConnection,
  manager: () => Promise<JetStreamManager>,
  names: QueueNames,
  emit: (job: DeadJob) => void,
  logger: QueueLogger,
): Subscription {
  const handle = async (msg: Msg): Promise<void> => {
    const advisory = msg.json<MaxDeliveriesAdvisory>();
    if (!consumerPriority(advisory.consumer) || typeof advisory.stream_seq !== 'number') return;
    const jsm = await manager();
    const stored = await jsm.streams.getMessage(names.stream, { seq: advisory.stream_seq });
    const job = stored ? decodeScanJob(stored.data) : null;
    // an undecodable payload: the message id still names the scan (`<scan id>[.<attempt base>]`)
    const [idScan, idBase] = stored?.header?.get('Nats-Msg-Id').split('.') ?? [];
    const scanId = job?.scanId || idScan;
    const attemptBase = job?.attemptBase ?? (Number(idBase) || 0);
    if (scanId) emit({ scanId, deliveries: advisory.deliveries, attemptBase });
    else logger.warn({ stream: names.stream, seq: advisory.stream_seq }, 'queue dead job unreadable');
    if (stored) await jsm.streams.deleteMessage(names.stream, advisory.stream_seq, false);
  };
  return nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${names.stream}.*`, {
    queue: QUEUE_GROUP,
    callback: (error, msg) => {
      if (error) return;
      handle(msg).catch((cause: unknown) =>
        logger.warn({ stream: names.stream, err: cause }, 'queue dead job lookup failed'),
      );
    },
  });
}
