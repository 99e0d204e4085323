/**
 * runWorker on the real JetStream JobSource (queue/jetstream) against the shared NATS server: jobs published
 * as the control plane publishes them, cancel signals on core NATS, redelivery by JetStream itself (nak with a
 * delay, a drained worker's jobs going to another worker), jobs held through a control-plane outage. The
 * WorkerService peer, images and database are those of run-worker.test.ts (testdata/worker-fixture.ts).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { hasRealdata } from '../../test/support/realdata.js';
import { connectQueue } from './queue/jetstream/connect.js';
import { createJetStreamJobSource } from './queue/jetstream/source.js';
import type { JobSource } from './queue/types.js';
import { createTestQueue, NATS_URL, type TestQueue } from './testdata/jetstream-test-queue.js';
import { eventsOf, terminalKinds } from './testdata/recording-control-plane.js';
import {
  ALPINE_310,
  ALPINE_311,
  startWorkerFixture,
  WAIT,
  type WorkerFixture,
} from './testdata/worker-fixture.js';

describe.skipIf(!hasRealdata)('runWorker on JetStream', () => {
  let fx: WorkerFixture;
  let queue: TestQueue;
  const opened: { source: JobSource; nc: NatsConnection }[] = [];

  beforeAll(async () => {
    fx = await startWorkerFixture();
  }, 120_000);
  afterEach(async () => {
    await fx.reset();
    for (const { source, nc } of opened.splice(0)) {
      await source.close();
      await nc.drain();
    }
    await queue?.close();
  });
  afterAll(() => fx?.close());

  /** A fresh queue (ack_wait 5 s unless given, at most 2 deliveries) and a source on its own connection, like a worker process. */
  const openQueue = async (ackWaitMs = 5_000) => {
    queue = await createTestQueue({ ackWaitMs, maxDeliver: 2 });
  };
  const openSource = async (): Promise<JobSource> => {
    const nc = await connectQueue({ servers: NATS_URL });
    const source = createJetStreamJobSource({ connection: nc, ...queue.names, pollIntervalMs: 200 });
    opened.push({ source, nc });
    return source;
  };
  const claimsOf = (scanId: string) =>
    fx.plane.claims.filter((c) => c.scanId === scanId).map((c) => c.attempt);

  it('completes published jobs and acknowledges them (the work queue is left empty)', async () => {
    await openQueue();
    await queue.publish('js-310', ALPINE_310);
    await queue.publish('js-311', `docker-archive:${ALPINE_311}`);
    const worker = await fx.start(await openSource());
    await vi.waitFor(() => expect(worker.metrics().outcomes.completed).toBe(2), WAIT);
    await vi.waitFor(async () => expect(await queue.stored()).toBe(0), WAIT);
    expect(
      ['js-310', 'js-311'].map((id) => ({
        kinds: terminalKinds(fx.streamOf(id)).filter((k) => k !== 'inventory'),
        claims: claimsOf(id),
        findings: eventsOf(fx.streamOf(id), 'completed')[0]!.findings > 0,
      })),
    ).toEqual([
      { kinds: ['started', 'findings', 'completed'], claims: [1], findings: true },
      { kinds: ['started', 'findings', 'completed'], claims: [1], findings: true },
    ]);
  });

  it('aborts a running scan on a cancel signal from NATS, streams cancelled and acknowledges', async () => {
    await openQueue();
    fx.holdLayers();
    await queue.publish('js-cancel', fx.registry.ref);
    const worker = await fx.start(await openSource());
    await vi.waitFor(() => expect(fx.registry.layerRequests).toBe(1), WAIT);
    queue.cancel('js-cancel', 'cancelled from the console');
    await vi.waitFor(() => expect(worker.metrics().outcomes.cancelled).toBe(1), WAIT);
    await vi.waitFor(async () => expect(await queue.stored()).toBe(0), WAIT);
    expect({
      kinds: terminalKinds(fx.streamOf('js-cancel')),
      reason: eventsOf(fx.streamOf('js-cancel'), 'cancelled')[0]!.reason,
    }).toEqual({ kinds: ['started', 'cancelled'], reason: 'cancelled from the console' });
  });

  it('retries a retryable failure through JetStream redelivery and fails it for good on the last delivery', async () => {
    await openQueue();
    fx.registry.manifestStatus = 503;
    await queue.publish('js-503', fx.registry.ref);
    const worker = await fx.start(await openSource());
    await vi.waitFor(() => expect(worker.metrics().outcomes.failed).toBe(1), WAIT);
    await vi.waitFor(async () => expect(await queue.stored()).toBe(0), WAIT);
    expect({
      claims: claimsOf('js-503'),
      failed: [1, 2].map((attempt) =>
        eventsOf(fx.streamOf('js-503', attempt), 'failed').map(({ code, retryable }) => ({
          code,
          retryable,
        })),
      ),
      outcomes: worker.metrics().outcomes,
    }).toEqual({
      claims: [1, 2],
      failed: [
        [{ code: 'ENG_REGISTRY_SERVER_ERROR', retryable: true }],
        [{ code: 'ENG_REGISTRY_SERVER_ERROR', retryable: false }],
      ],
      outcomes: { completed: 0, failed: 1, cancelled: 0, dropped: 0, retry: 1, requeued: 0 },
    });
  });

  it('runs at most `concurrency` jobs: the rest stay in the stream until a slot frees', async () => {
    await openQueue();
    fx.holdLayers();
    for (let i = 1; i <= 4; i++) await queue.publish(`js-c${i}`, fx.registry.ref);
    const worker = await fx.start(await openSource(), { concurrency: 2 });
    await vi.waitFor(() => expect(fx.registry.layerRequests).toBe(2), WAIT);
    const whileFull = { claims: fx.plane.claims.length, inFlight: worker.metrics().inFlight };
    fx.openGate();
    await vi.waitFor(() => expect(worker.metrics().outcomes.completed).toBe(4), WAIT);
    expect({ whileFull, claims: fx.plane.claims.length, stored: await queue.stored() }).toEqual({
      whileFull: { claims: 2, inFlight: 2 },
      claims: 4,
      stored: 0,
    });
  });

  it('a worker drained past its timeout gives its job back at once; another worker completes it as attempt 2', async () => {
    await openQueue();
    fx.holdLayers();
    await queue.publish('js-drain', fx.registry.ref);
    const first = await fx.start(await openSource(), { workerId: 'worker-a' });
    await vi.waitFor(() => expect(fx.registry.layerRequests).toBe(1), WAIT);
    await first.drain(50);
    fx.openGate();
    const second = await fx.start(await openSource(), { workerId: 'worker-b' });
    await vi.waitFor(() => expect(second.metrics().outcomes.completed).toBe(1), WAIT);
    expect({
      claims: fx.plane.claims.filter((c) => c.scanId === 'js-drain').map((c) => [c.attempt, c.workerId]),
      first: terminalKinds(fx.streamOf('js-drain', 1)),
      second: terminalKinds(fx.streamOf('js-drain', 2)).filter((k) => k !== 'inventory'),
      requeued: first.metrics().outcomes.requeued,
      stored: await queue.stored(),
    }).toEqual({
      claims: [
        [1, 'worker-a'],
        [2, 'worker-b'],
      ],
      first: ['started'],
      second: ['started', 'findings', 'completed'],
      requeued: 1,
      stored: 0,
    });
  });

  it('holds jobs through a control-plane outage longer than the ack wait and the retry delays; each completes once, at attempt 1', async () => {
    // ack_wait 1 s and 2 deliveries: a 3 s outage is the fleet's 45 s one against ack_wait 30 s and 5 deliveries
    await openQueue(1_000);
    fx.plane.down();
    const ids = ['js-out1', 'js-out2', 'js-out3'];
    for (const id of ids) await queue.publish(id, ALPINE_310);
    const worker = await fx.start(await openSource(), {
      concurrency: 2,
      heartbeatMs: 200,
      controlPlaneRetryMaxMs: 100,
    });
    await vi.waitFor(() => expect(worker.metrics().waitingForControlPlane).toBe(2), WAIT);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const during = {
      received: worker.metrics().received,
      waiting: worker.metrics().waitingForControlPlane,
      stored: await queue.stored(),
    };
    await fx.plane.up();
    await vi.waitFor(() => expect(worker.metrics().outcomes.completed).toBe(3), WAIT);
    await vi.waitFor(async () => expect(await queue.stored()).toBe(0), WAIT);
    expect({
      during,
      claims: ids.map(claimsOf),
      kinds: ids.map((id) => terminalKinds(fx.streamOf(id)).filter((k) => k !== 'inventory')),
      outcomes: worker.metrics().outcomes,
    }).toEqual({
      during: { received: 2, waiting: 2, stored: 3 },
      claims: ids.map(() => [1]),
      kinds: ids.map(() => ['started', 'findings', 'completed']),
      outcomes: { completed: 3, failed: 0, cancelled: 0, dropped: 0, retry: 0, requeued: 0 },
    });
  });
});
