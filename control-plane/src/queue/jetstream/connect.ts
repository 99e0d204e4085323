/**
 * The control plane's NATS connection for the work queue: reconnects forever, waiting longer the longer the
 * outage lasts, so a NATS restart never needs a control-plane restart. Subscriptions survive reconnects (the
 * client re-subscribes); publishes during an outage time out and are retried by the dispatcher. Requests keep no
 * async stack trace (`noAsyncTraces`): a timeout's stack starts in the client's timer, not at the caller.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ControlPlaneError } from '../../errors.js';

export interface QueueConnectionOptions {
  /** NATS_URL: `nats://host:4222`, `host:port`, or several */
  servers: string | string[];
  /** client name shown by the server (`nats server report connections`) */
  name?: string;
  /** keep trying when the first connect fails (default false: fail fast with CP_QUEUE_UNAVAILABLE) */
  waitOnFirstConnect?: boolean;
}

const MIN_RECONNECT_WAIT_MS = 250;
const MAX_RECONNECT_WAIT_MS = 5_000;

/** Connects; CP_QUEUE_UNAVAILABLE when the server cannot be reached (unless `waitOnFirstConnect`). */
export async function connectQueue(options: QueueConnectionOptions): Promise<NatsConnection> {
  let outageStart = 0;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      name: options.name ?? 'vigil-control-plane',
      maxReconnectAttempts: -1,
      waitOnFirstConnect: options.waitOnFirstConnect ?? false,
      // a quarter of the outage so far: quick after a blip, at most one try per 5 s in a long outage
      reconnectDelayHandler: () => {
        outageStart ||= Date.now();
        return Math.min(
          MAX_RECONNECT_WAIT_MS,
          Math.max(MIN_RECONNECT_WAIT_MS, (Date.now() - outageStart) / 4),
        );
      },
      pingInterval: 10_000,
      maxPingOut: 3,
      // nats-core otherwise builds an Error per request (every JetStream publish) to keep the caller's stack
      // for a later timeout: about a third of a bulk dispatch's CPU in the process. Queue errors are wrapped
      // with their own message (CP_QUEUE_UNAVAILABLE) anyway.
      noAsyncTraces: true,
    });
  } catch (error) {
    throw new ControlPlaneError(
      'CP_QUEUE_UNAVAILABLE',
      `cannot connect to NATS at ${String(options.servers)}`,
      {
        cause: error,
      },
    );
  }
  void (async () => {
    for await (const status of nc.status()) if (status.type === 'reconnect') outageStart = 0;
  })();
  return nc;
}
