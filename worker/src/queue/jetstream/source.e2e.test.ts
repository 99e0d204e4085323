/**
 * The worker's JetStream source on its own, against the shared NATS server with a queue laid out by hand (the
 * control plane's dispatcher is tested with this source in control-plane/src/queue/jetstream): a worker started
 * before the control plane set up the queue, and cancel signals that do not decode.
 */
import { randomBytes } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { ScanPriority } from '@vigil/proto/v1/scan_pb';
import { CancelSignalSchema, ScanJobSchema } from '@vigil/proto/v1/worker_pb';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { JOB_PRIORITIES } from '../names.js';
import type { CancelSignal, JobSource } from '../types.js';
import { connectQueue } from './connect.js';
import { createJetStreamJobSource } from './source.js';

const NATS_URL = process.env.VIGIL_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

let nc: NatsConnection;
let names: { stream: string; subjectPrefix: string };
let source: JobSource;
const warnings: string[] = [];

beforeEach(async () => {
  nc = await connectQueue({ servers: NATS_URL });
  const id = randomBytes(5).toString('hex');
  names = { stream: `TEST_W_${id}`, subjectPrefix: `test.w${id}` };
  warnings.length = 0;
  source = createJetStreamJobSource({
    connection: nc,
    ...names,
    pollIntervalMs: 100,
    logger: { warn: (_fields, message) => warnings.push(message) },
  });
  await nc.flush();
});
afterEach(async () => {
  await source.close();
  await (await jetstreamManager(nc)).streams.delete(names.stream).catch(() => false);
  await nc.close();
});

/** The stream and consumers as the control plane's setup() lays them out. */
async function setUpQueue(): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: names.stream,
    subjects: [`${names.subjectPrefix}.jobs.*`],
    retention: RetentionPolicy.Workqueue,
  });
  for (const priority of JOB_PRIORITIES) {
    await jsm.consumers.add(names.stream, {
      durable_name: `jobs-${priority}`,
      filter_subject: `${names.subjectPrefix}.jobs.${priority}`,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(30_000),
      max_deliver: 5,
    });
  }
}

it('waits_for_a_queue_that_is_not_set_up_yet', async () => {
  const waiting = source.next(AbortSignal.timeout(30_000));
  await expect.poll(() => warnings.length).toBeGreaterThan(0);
  await setUpQueue();
  const job = create(ScanJobSchema, {
    scanId: 's1',
    orgId: 'o1',
    imageId: 'i1',
    imageRef: 'registry.example/app@sha256:ab',
    priority: ScanPriority.CI,
    queuedAt: timestampFromDate(new Date('2026-01-02T03:04:05Z')),
  });
  await jetstream(nc).publish(`${names.subjectPrefix}.jobs.ci`, toBinary(ScanJobSchema, job), {
    msgID: 's1',
  });
  const delivery = await waiting;
  await delivery?.ack();
  expect({ scanId: delivery?.job.scanId, attempt: delivery?.attempt, warning: warnings[0] }).toEqual({
    scanId: 's1',
    attempt: 1,
    warning: 'queue pull failed',
  });
});

it('drops_a_cancel_signal_that_does_not_decode', async () => {
  const heard: CancelSignal[] = [];
  source.onCancel((signal) => heard.push(signal));
  const subject = `${names.subjectPrefix}.cancel`;
  nc.publish(subject, new Uint8Array([0xff, 0x01]));
  nc.publish(
    subject,
    toBinary(CancelSignalSchema, create(CancelSignalSchema, { scanId: 's2', orgId: 'o1', reason: 'bulk' })),
  );
  await expect.poll(() => heard.length).toBe(1);
  expect({ heard, warnings }).toEqual({
    heard: [{ scanId: 's2', orgId: 'o1', reason: 'bulk' }],
    warnings: ['queue cancel undecodable'],
  });
});
