/**
 * The JetStream queue end to end on the shared NATS server: the control plane's dispatcher with the worker's
 * JetStream source (imported from the worker package by path: the two halves only meet on the wire, and this is
 * the test of that wire), through the shared behaviour table, plus what only JetStream has (undecodable payloads,
 * the advisory-driven dead-job lookup, stream setup).
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isControlPlaneError } from '../../errors.js';
import { ACK_WAIT_MS, jetStreamQueue, type JetStreamQueue } from '../testdata/jetstream-queue.js';
import { SHARED_NATS_URL, uniqueQueueNames } from '../testdata/nats-server.js';
import { describeQueueBehaviour, firstEvent, scanJob, take, takeUntil } from '../testdata/queue-behaviour.js';
import type { DeadJob } from '../types.js';
import { connectQueue } from './connect.js';
import { createJetStreamDispatcher } from './dispatcher.js';

describeQueueBehaviour('jetstream queue', {
  ackWaitMs: ACK_WAIT_MS,
  create: ({ maxDeliver }) => jetStreamQueue({ maxDeliver }),
});

describe('jetstream queue specifics', () => {
  let q: JetStreamQueue;
  beforeAll(async () => {
    q = await jetStreamQueue({ maxDeliver: 2 });
  });
  afterAll(async () => {
    await q.close();
  });

  const streamMessages = async (): Promise<number> =>
    (await (await jetstreamManager(q.nc)).streams.info(q.names.stream)).state.messages;

  it('terminates_an_undecodable_payload_instead_of_handing_it_out', async () => {
    const js = jetstream(q.nc);
    await js.publish(
      `${q.names.subjectPrefix}.jobs.manual`,
      new TextEncoder().encode('not a protobuf ScanJob \xff'),
    );
    await js.publish(`${q.names.subjectPrefix}.jobs.manual`, new Uint8Array(0)); // decodes, but names no scan
    await q.dispatcher.publish([scanJob('valid')]);
    const source = await q.openSource();
    const delivery = await take(source, 5_000);
    await delivery?.ack();
    expect({
      job: delivery?.job.scanId,
      warnings: q.warnings.splice(0),
      left: await streamMessages(),
    }).toEqual({
      job: 'valid',
      warnings: ['queue job undecodable', 'queue job undecodable'],
      left: 0,
    });
  });

  it('reads_a_dead_job_back_from_the_stream_and_then_deletes_it', async () => {
    const dead = firstEvent<DeadJob>((listener) => q.dispatcher.onDeadJob(listener));
    await q.dispatcher.publish([{ ...scanJob('dead-1', 'ci'), attemptBase: 4 }]);
    const source = await q.openSource();
    (await take(source, 5_000))?.nak(0);
    (await take(source, 5_000))?.nak(0);
    const asking = takeUntil(source, dead); // JetStream gives up on the job when asked for the next one
    const deadJob = await dead;
    await asking;
    // the lookup deletes the message right after the listeners heard of it
    await expect.poll(streamMessages, { timeout: 5_000 }).toBe(0);
    expect(deadJob).toEqual({ scanId: 'dead-1', deliveries: 2, attemptBase: 4 });
  });

  it('sets_up_idempotently_and_updates_ack_wait_and_max_deliver', async () => {
    await q.dispatcher.setup();
    const changed = createJetStreamDispatcher({
      connection: q.nc,
      ...q.names,
      ackWaitMs: 7_000,
      maxDeliver: 9,
    });
    await changed.setup();
    const jsm = await jetstreamManager(q.nc);
    const consumers = await Promise.all(
      ['jobs-manual', 'jobs-ci', 'jobs-scheduled'].map((name) => jsm.consumers.info(q.names.stream, name)),
    );
    const stream = await jsm.streams.info(q.names.stream);
    // put the suite's settings back for the other cases
    await createJetStreamDispatcher({
      connection: q.nc,
      ...q.names,
      ackWaitMs: ACK_WAIT_MS,
      maxDeliver: 2,
    }).setup();
    expect({
      stream: {
        subjects: stream.config.subjects,
        retention: stream.config.retention,
        storage: stream.config.storage,
        duplicateWindowMs: stream.config.duplicate_window / 1e6,
      },
      consumers: consumers.map((c) => ({
        name: c.name,
        filter: c.config.filter_subject,
        ack: c.config.ack_policy,
        ackWaitMs: (c.config.ack_wait ?? 0) / 1e6,
        maxDeliver: c.config.max_deliver,
      })),
    }).toEqual({
      stream: {
        subjects: [`${q.names.subjectPrefix}.jobs.*`],
        retention: 'workqueue',
        storage: 'file',
        duplicateWindowMs: 120_000,
      },
      consumers: ['manual', 'ci', 'scheduled'].map((p) => ({
        name: `jobs-${p}`,
        filter: `${q.names.subjectPrefix}.jobs.${p}`,
        ack: 'explicit',
        ackWaitMs: 7_000,
        maxDeliver: 9,
      })),
    });
  });

  it('fails_with_codes_when_the_queue_is_missing_or_misnamed', async () => {
    const codeOf = async (work: () => unknown): Promise<string> => {
      try {
        await work();
        return 'no error';
      } catch (error) {
        return isControlPlaneError(error) ? error.code : String(error);
      }
    };
    const missing = createJetStreamDispatcher({
      connection: q.nc,
      ...uniqueQueueNames(),
      publishTimeoutMs: 300,
      publishRetries: 1,
      apiTimeoutMs: 1_000,
    });
    let message = '';
    const publish = await codeOf(() =>
      missing.publish([scanJob('m1'), scanJob('m2')]).catch((error: Error) => {
        message = error.message;
        throw error;
      }),
    );
    expect({
      publish,
      storedCount: message.split(':')[0],
      pending: await codeOf(() => missing.pending()),
      badStream: await codeOf(() => createJetStreamDispatcher({ connection: q.nc, stream: 'a.b' })),
      badPrefix: await codeOf(() =>
        createJetStreamDispatcher({ connection: q.nc, subjectPrefix: 'vigil.*' }),
      ),
      badSetting: await codeOf(() => createJetStreamDispatcher({ connection: q.nc, maxInFlight: 0 })),
      closed: await codeOf(async () => {
        const nc = await connectQueue({ servers: SHARED_NATS_URL });
        await nc.close();
        await createJetStreamDispatcher({ connection: nc, ...q.names }).publish([scanJob('c1')]);
      }),
    }).toEqual({
      publish: 'CP_QUEUE_UNAVAILABLE',
      storedCount: 'the work queue stored 0 of 2 jobs before failing',
      pending: 'CP_QUEUE_UNAVAILABLE',
      badStream: 'CP_INVALID_ARGUMENT',
      badPrefix: 'CP_INVALID_ARGUMENT',
      badSetting: 'CP_INVALID_ARGUMENT',
      closed: 'CP_QUEUE_UNAVAILABLE',
    });
  });
});
