/**
 * One JetStream delivery as a JobDelivery: ack/nak/term/working are JetStream ack messages on the delivery's
 * `$JS.ACK` subject. `ack()` waits for the server to confirm (an "ack ack" request); nak, term and working are
 * fire and forget: if one is lost (connection down), the job is redelivered after ack_wait anyway. While the
 * delivery is held the source heartbeats it every ack_wait/3 (`autoHeartbeat`), so only a dead worker's jobs
 * wait out ack_wait. The first of ack/nak/term wins; later calls do nothing. The delivery's attempt is the job's
 * attempt base plus the JetStream delivery count.
 */
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { JobQueueError } from '../errors.js';
import type { JobDelivery, ScanJob } from '../types.js';
import type { QueueLogger } from './logger.js';

export interface DeliverySettings {
  ackWaitMs: number;
  maxDeliver: number;
  autoHeartbeat: boolean;
  /** delay of `nak()` without a delay, by delivery count (the last repeats) */
  nakBackoffMs: readonly number[];
  ackTimeoutMs: number;
  logger: QueueLogger;
}

/** A delivery plus the source's handle on it. */
export interface HeldDelivery {
  delivery: JobDelivery;
  /** stops the automatic heartbeat (the source is closing): unless settled in time, the job is redelivered */
  abandon(): void;
}

const encoder = new TextEncoder();
const ACK = encoder.encode('+ACK');
const WORKING = encoder.encode('+WPI');
const TERM = encoder.encode('+TERM');

export function createDelivery(
  nc: NatsConnection,
  msg: Msg,
  job: ScanJob,
  deliveryCount: number,
  settings: DeliverySettings,
  onSettled: () => void,
): HeldDelivery {
  const reply = msg.reply as string;
  const attempt = job.attemptBase + deliveryCount;
  let settled = false;
  const send = (payload: Uint8Array): void => {
    try {
      nc.publish(reply, payload);
    } catch (error) {
      settings.logger.warn({ scanId: job.scanId, attempt, err: error }, 'queue ack signal not sent');
    }
  };
  const working = (): void => {
    if (!settled) send(WORKING);
  };
  const heartbeat = settings.autoHeartbeat
    ? setInterval(working, Math.max(1, Math.floor(settings.ackWaitMs / 3)))
    : undefined;
  const settle = (): boolean => {
    if (settled) return false;
    settled = true;
    clearInterval(heartbeat);
    onSettled();
    return true;
  };
  const delivery: JobDelivery = {
    job,
    attempt,
    lastAttempt: settings.maxDeliver > 0 && deliveryCount >= settings.maxDeliver,
    working,
    async ack() {
      if (!settle()) return;
      try {
        await nc.request(reply, ACK, { timeout: settings.ackTimeoutMs });
      } catch (error) {
        throw new JobQueueError(
          'unavailable',
          `the ack of scan ${job.scanId} attempt ${attempt} was not confirmed`,
          {
            cause: error,
          },
        );
      }
    },
    nak(delayMs) {
      if (!settle()) return;
      const backoff = settings.nakBackoffMs;
      const delay =
        delayMs ?? (backoff[Math.min(deliveryCount, backoff.length) - 1] as number | undefined) ?? 0;
      send(
        delay > 0
          ? encoder.encode(`-NAK ${JSON.stringify({ delay: Math.round(delay * 1_000_000) })}`)
          : encoder.encode('-NAK'),
      );
    },
    term() {
      if (settle()) send(TERM);
    },
  };
  return {
    delivery,
    abandon() {
      clearInterval(heartbeat);
    },
  };
}
