/**
 * Test support (not built): a JetStream work queue for one test file on the shared NATS server, laid out as
 * the wire contract says (queue/names.ts, worker.proto): a work-queue stream over `<prefix>.jobs.*`, one
 * durable pull consumer `jobs-<priority>` per priority with explicit ack, ScanJob messages in protobuf with the
 * scan id as message id, CancelSignal on core NATS `<prefix>.cancel`. The control plane's dispatcher publishes
 * the same bytes; the worker package does not import it.
 */
import { randomBytes } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ScanPriority } from '@vigil/proto/v1/scan_pb';
import { CancelSignalSchema, ScanJobSchema } from '@vigil/proto/v1/worker_pb';
import { connectQueue } from '../queue/jetstream/connect.js';
import { cancelSubject, consumerName, JOB_PRIORITIES, jobSubjects } from '../queue/names.js';

export const NATS_URL = process.env.VIGIL_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface TestQueue {
  nc: NatsConnection;
  names: { stream: string; subjectPrefix: string };
  /** publishes a manual-priority job for `imageRef` */
  publish(scanId: string, imageRef: string): Promise<void>;
  cancel(scanId: string, reason: string): void;
  /** messages still in the stream (a work queue drops acknowledged ones) */
  stored(): Promise<number>;
  /** deletes the stream and closes the connection */
  close(): Promise<void>;
}

const nanos = (ms: number) => ms * 1_000_000;

/** A fresh queue with unique names; `ackWaitMs` and `maxDeliver` as the control plane would set them. */
export async function createTestQueue(settings: { ackWaitMs: number; maxDeliver: number }): Promise<TestQueue> {
  const id = randomBytes(5).toString('hex');
  const names = { stream: `TEST_WORKER_${id}`, subjectPrefix: `test.worker${id}` };
  const nc = await connectQueue({ servers: NATS_URL, name: `worker-test-${id}` });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: names.stream,
    subjects: [jobSubjects(names)],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.Memory,
    duplicate_window: nanos(60_000),
  });
  for (const priority of JOB_PRIORITIES) {
    await jsm.consumers.add(names.stream, {
      durable_name: consumerName(priority),
      filter_subject: `${names.subjectPrefix}.jobs.${priority}`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(settings.ackWaitMs),
      max_deliver: settings.maxDeliver,
    });
  }
  const js = jetstream(nc);
  return {
    nc,
    names,
    async publish(scanId, imageRef) {
      const job = create(ScanJobSchema, {
        scanId,
        orgId: 'org-1',
        imageId: `image-${scanId}`,
        imageRef,
        digest: '',
        dbVersion: '',
        priority: ScanPriority.MANUAL,
        queuedAt: timestampNow(),
      });
      await js.publish(`${names.subjectPrefix}.jobs.manual`, toBinary(ScanJobSchema, job), { msgID: scanId });
    },
    cancel(scanId, reason) {
      nc.publish(cancelSubject(names), toBinary(CancelSignalSchema, create(CancelSignalSchema, { scanId, orgId: 'org-1', reason })));
    },
    async stored() {
      return (await jsm.streams.info(names.stream)).state.messages;
    },
    async close() {
      await jsm.streams.delete(names.stream).catch(() => undefined);
      await nc.drain();
    },
  };
}
