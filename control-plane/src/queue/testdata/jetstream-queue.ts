/**
 * Test support (not built): a JetStream queue for one test: the control plane's dispatcher on its own
 * connection and the worker's JetStream source (imported from the worker package by path: the two halves only
 * meet on the wire, and these tests are the test of that wire), each source on its own connection so a test can
 * kill one like a crashed worker. Unique stream and subject names; `close()` deletes the stream.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectQueue as connectWorkerQueue } from '../../../../worker/src/queue/jetstream/connect.js';
import { createJetStreamJobSource } from '../../../../worker/src/queue/jetstream/source.js';
import type { JobSource } from '../../../../worker/src/queue/types.js';
import { connectQueue } from '../jetstream/connect.js';
import { createJetStreamDispatcher, type JetStreamDispatcherOptions } from '../jetstream/dispatcher.js';
import { SHARED_NATS_URL, uniqueQueueNames } from './nats-server.js';
import type { QueueUnderTest, SourceLike, SourceOptions } from './queue-behaviour.js';

/** short, so redelivery cases are quick */
export const ACK_WAIT_MS = 1_000;

/** A fresh queue (dispatcher set up) on `servers`; `warnings` collects what dispatcher and sources log. */

export interface JetStreamQueue extends QueueUnderTest {
  openSource(options?: SourceOptions): Promise<JobSource>;
  nc: NatsConnection;
  names: { stream: string; subjectPrefix: string };
  warnings: string[];
}

/** A fresh queue (dispatcher set up) on `servers`; `warnings` collects what dispatcher and sources log. */
export async function jetStreamQueue(
  settings: Partial<JetStreamDispatcherOptions> = {},
  servers = SHARED_NATS_URL,
): Promise<JetStreamQueue> {
  const names = uniqueQueueNames();
  const nc = await connectQueue({ servers });
  const warnings: string[] = [];
  const logger = { warn: (_fields: object, message: string) => warnings.push(message) };
  const dispatcher = createJetStreamDispatcher({
    connection: nc,
    ...names,
    ackWaitMs: ACK_WAIT_MS,
    logger,
    ...settings,
  });
  await dispatcher.setup();
  const sources = new Map<SourceLike, NatsConnection>();
  return {
    nc,
    names,
    warnings,
    dispatcher,
    async openSource(options: SourceOptions = {}) {
      const connection = await connectWorkerQueue({ servers });
      const source = createJetStreamJobSource({
        connection,
        ...names,
        pollIntervalMs: 200,
        logger,
        ...options,
      });
      await connection.flush(); // its subscriptions are registered: it hears the next cancel
      sources.set(source, connection);
      return source;
    },
    async killSource(source) {
      await sources.get(source)?.close();
      await source.close();
    },
    async close() {
      for (const [source, connection] of sources) {
        await source.close();
        if (!connection.isClosed()) await connection.close();
      }
      await dispatcher.close();
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(names.stream).catch(() => false);
      await nc.close();
    },
  };
}

