/**
 * A NATS restart on a private nats-server (free port, temp store): the dispatcher's publishes made during the
 * outage are retried until the server is back, a worker's waiting next() resumes, the file-stored stream and
 * consumers come back with their jobs, and the source reports disconnected → connected.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { jetStreamQueue, type JetStreamQueue } from '../testdata/jetstream-queue.js';
import { startPrivateNatsServer, type PrivateNatsServer } from '../testdata/nats-server.js';
import { scanJob, take, type DeliveryLike } from '../testdata/queue-behaviour.js';

let server: PrivateNatsServer;
let q: JetStreamQueue;

beforeAll(async () => {
  server = await startPrivateNatsServer();
  q = await jetStreamQueue({}, server.url);
});
afterAll(async () => {
  await q?.close();
  await server?.dispose();
});

it('resumes_publishing_and_consuming_after_a_nats_restart', async () => {
  const before = Array.from({ length: 50 }, (_, i) => scanJob(`before-${i}`));
  const during = Array.from({ length: 50 }, (_, i) => scanJob(`during-${i}`, 'ci'));
  await q.dispatcher.publish(before);
  const source = await q.openSource({ lowerPriorityEvery: 0 });
  const statuses: string[] = [];
  source.onStatus?.((status) => statuses.push(status));
  for (let i = 0; i < 10; i++) await (await take(source, 5_000))?.ack();

  await server.kill();
  const waiting = take(source, 60_000); // asked during the outage
  const publishing = q.dispatcher.publish(during);
  await sleep(1_000);
  await server.start();

  const published = await publishing;
  const taken: DeliveryLike[] = [];
  for (let d = await waiting; d; d = await take(source, 1_000)) {
    taken.push(d);
    await d.ack();
  }
  // acks made just before a SIGKILL may be lost (at-least-once), so the first ten may come again
  const ids = new Set(
    taken.map((d) => d.job.scanId).filter((id) => !before.slice(0, 10).some((j) => j.scanId === id)),
  );
  expect({
    published,
    ids: [...ids].sort(),
    statuses: [statuses[0], statuses.at(-1)],
    pending: await q.dispatcher.pending(),
  }).toEqual({
    published: { published: 50, duplicates: 0 },
    ids: [...before.slice(10), ...during].map((j) => j.scanId).sort(),
    statuses: ['disconnected', 'connected'],
    pending: 0,
  });
});
