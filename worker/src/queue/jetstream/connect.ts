/**
 * The worker's NATS connection for the work queue: reconnects forever, waiting longer the longer the outage
 * lasts (a quarter of it so far, 250 ms to 5 s), so a NATS restart never needs a worker restart. The control
 * plane's queue/jetstream/connect.ts has the same policy.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JobQueueError } from '../errors.js';

export interface QueueConnectionOptions {
  /** NATS_URL: `nats://host:4222`, `host:port`, or several */
  servers: string | string[];
  /** client name shown by the server */
  name?: string;
  /** keep trying when the first connect fails (default false: reject with `unavailable`) */
  waitOnFirstConnect?: boolean;
}

const MIN_RECONNECT_WAIT_MS = 250;
const MAX_RECONNECT_WAIT_MS = 5_000;

/** Connects; JobQueueError `unavailable` when the server cannot be reached (unless `waitOnFirstConnect`). */
export async function connectQueue(options: QueueConnectionOptions): Promise<NatsConnection> {
  let outageStart = 0;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      name: options.name ?? 'vigil-worker',
      maxReconnectAttempts: -1,
      waitOnFirstConnect: options.waitOnFirstConnect ?? false,
      reconnectDelayHandler: () => {
        outageStart ||= Date.now();
        return Math.min(
          MAX_RECONNECT_WAIT_MS,
          Math.max(MIN_RECONNECT_WAIT_MS, (Date.now() - outageStart) / 4),
        );
      },
      pingInterval: 10_000,
      maxPingOut: 3,
    });
  } catch (error) {
    throw new JobQueueError('unavailable', `cannot connect to NATS at ${String(options.servers)}`, {
      cause: error,
    });
  }
  void (async () => {
    for await (const status of nc.status()) if (status.type === 'reconnect') outageStart = 0;
  })();
  return nc;
}
