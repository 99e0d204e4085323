/**
 * One-message pulls from a JetStream pull consumer, on the raw API (`$JS.API.CONSUMER.MSG.NEXT`), because the
 * source needs what nats.js's consumer API does not offer: `no_wait` (answer at once: a message, or 404 when
 * there is none), so one waiting source can look at three consumers in priority order without blocking on an
 * empty one. Each pull has its own inbox subscription: JetStream delivers the message with its original subject,
 * so a shared request inbox (nc.request) could not route it.
 *
 * Wire facts relied on (checked against nats-server 2.9.10): an empty consumer answers a `no_wait` pull with
 * status 404 and an `expires` pull with 408 when it expires; a pull for a missing consumer gets no answer at all;
 * the ack subject is `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>`
 * (servers with domains insert `<domain>.<account hash>` after ACK and append a token).
 */
import { createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { JobQueueError } from '../errors.js';

export interface PullOptions {
  stream: string;
  consumer: string;
  /** wait up to this long for a message; absent: `no_wait` */
  expiresMs?: number;
  /** give up when the server has not answered this long after `expiresMs` (default 3 s) */
  timeoutMs?: number;
}

const encoder = new TextEncoder();

/**
 * The next message of the consumer, or null when it has none (now, or within `expiresMs`). Rejects with
 * JobQueueError `unavailable` when the server does not answer: disconnected, or the consumer does not exist.
 */
export function pullOne(nc: NatsConnection, options: PullOptions): Promise<Msg | null> {
  const timeoutMs = (options.expiresMs ?? 0) + (options.timeoutMs ?? 3_000);
  const request = options.expiresMs
    ? { batch: 1, expires: options.expiresMs * 1_000_000 }
    : { batch: 1, no_wait: true };
  return new Promise((resolve, reject) => {
    const inbox = createInbox();
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      reject(
        new JobQueueError(
          'unavailable',
          `consumer ${options.stream}/${options.consumer} did not answer a pull within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const subscription = nc.subscribe(inbox, {
      max: 1,
      callback: (error, msg) => {
        clearTimeout(timer);
        if (error)
          reject(new JobQueueError('unavailable', `pull from ${options.consumer} failed`, { cause: error }));
        // a status answer (404 no messages, 408 expired, 409 limits or leadership change) has no ack subject
        else resolve(msg.reply?.startsWith('$JS.ACK.') ? msg : null);
      },
    });
    try {
      nc.publish(
        `$JS.API.CONSUMER.MSG.NEXT.${options.stream}.${options.consumer}`,
        encoder.encode(JSON.stringify(request)),
        {
          reply: inbox,
        },
      );
    } catch (error) {
      clearTimeout(timer);
      subscription.unsubscribe();
      reject(new JobQueueError('unavailable', `pull from ${options.consumer} failed`, { cause: error }));
    }
  });
}

/** What the ack subject of a delivered message says about it. */
export interface AckInfo {
  stream: string;
  consumer: string;
  /** 1 on the first delivery */
  deliveryCount: number;
  streamSeq: number;
}

/** Parses a `$JS.ACK.…` subject; null when it is not one. */
export function parseAckSubject(subject: string): AckInfo | null {
  const tokens = subject.split('.');
  if (tokens[0] !== '$JS' || tokens[1] !== 'ACK') return null;
  const base = tokens.length === 9 ? 2 : tokens.length >= 11 ? 4 : -1;
  if (base < 0) return null;
  const deliveryCount = Number(tokens[base + 2]);
  const streamSeq = Number(tokens[base + 3]);
  if (!Number.isSafeInteger(deliveryCount) || deliveryCount < 1 || !Number.isSafeInteger(streamSeq))
    return null;
  return { stream: tokens[base] as string, consumer: tokens[base + 1] as string, deliveryCount, streamSeq };
}
