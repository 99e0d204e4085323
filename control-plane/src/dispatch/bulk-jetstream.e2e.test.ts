/**
 * A bulk rescan of 10,000 images by filter dispatched to NATS JetStream (a unique stream per run): one batch,
 * every job stored once, the outbox empty. The time is printed next to a floor measured in the same run — the
 * same 10,000 jobs published by the dispatcher alone into a fresh stream — and not asserted (timings are not
 * test outcomes; the bench in bench/ holds the target).
 */
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectQueue } from '../queue/jetstream/connect.js';
import { createJetStreamDispatcher } from '../queue/jetstream/dispatcher.js';
import type { ScanJobMessage } from '../queue/types.js';
import { openBackends, startServices, type Backends } from '../services/testdata/harness.js';
import { UNPUBLISHED_SCAN } from '../store/postgres/scan-outbox.js';

let backends: Backends;
let nc: NatsConnection;
const run = randomBytes(4).toString('hex');
const streams = [`VIGIL_BULK_${run}`, `VIGIL_FLOOR_${run}`];

beforeAll(async () => {
  backends = await openBackends();
  nc = await connectQueue({ servers: process.env.VIGIL_TEST_NATS_URL ?? '127.0.0.1:4222' });
});
afterAll(async () => {
  const jsm = await jetstreamManager(nc);
  for (const stream of streams) await jsm.streams.delete(stream).catch(() => false);
  await nc.close();
  await backends?.dispose();
});

it('dispatches a 10,000-image bulk rescan to JetStream once per image', async () => {
  const org = (await backends.stores.orgs.createOrg({ slug: 'bulk-js', name: 'Bulk' })).id;
  await backends.db.query(
    `WITH repo AS (INSERT INTO repositories (org_id, name) VALUES ($1, 'fleet/app') RETURNING id)
     INSERT INTO images (org_id, repository_id, name, digest)
     SELECT $1, repo.id, 'fleet/app', 'sha256:' || encode(sha256(convert_to('js-' || g, 'UTF8')), 'hex')
     FROM repo, generate_series(1, 10000) g`,
    [org],
  );
  const [bulkStream, floorStream] = streams as [string, string];
  const dispatcher = createJetStreamDispatcher({
    connection: nc,
    stream: bulkStream,
    subjectPrefix: `bulk${run}`,
  });
  const floor = createJetStreamDispatcher({
    connection: nc,
    stream: floorStream,
    subjectPrefix: `floor${run}`,
  });
  await dispatcher.setup();
  await floor.setup();
  const logged: Array<Record<string, unknown>> = [];
  const logger = {
    debug() {},
    info: (fields: object) => logged.push(fields as Record<string, unknown>),
    warn() {},
    error() {},
  };
  const cp = await startServices(backends, { dispatcher, logger });

  let started = performance.now();
  const batch = await cp.services.scans.bulkScan(
    org,
    { filter: { text: 'fleet/app' }, priority: 'scheduled' },
    { type: 'system', id: null },
  );
  const bulkMs = performance.now() - started;

  const jobs: ScanJobMessage[] = (
    await backends.stores.scans.listQueuedScans(org, batch.id, { limit: 10_000 })
  ).map((s) => ({
    scanId: s.id,
    orgId: org,
    imageId: s.imageId,
    imageRef: `${s.repository}@${s.digest}`,
    digest: s.digest,
    dbVersion: s.dbVersion,
    priority: s.priority,
    queuedAt: s.createdAt,
    attemptBase: 0,
  }));
  started = performance.now();
  await floor.publish(jobs);
  const floorMs = performance.now() - started;
  const phases = logged.find((f) => f.batchId === batch.id);
  process.stderr.write(
    `bulkScan of 10,000 images to JetStream: ${bulkMs.toFixed(0)} ms (insert ${String(phases?.insertMs)} ms, ` +
      `publish ${String(phases?.publishMs)} ms); the dispatcher alone publishing the same jobs: ${floorMs.toFixed(0)} ms ` +
      `(${(bulkMs / floorMs).toFixed(2)}x overall, ${(Number(phases?.publishMs) / floorMs).toFixed(2)}x for the publish phase)\n`,
  );

  const jsm = await jetstreamManager(nc);
  const { rows } = await backends.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM scans s WHERE s.org_id = $1 AND ${UNPUBLISHED_SCAN}`,
    [org],
  );
  await cp.close();
  expect({
    total: batch.total,
    stored: (await jsm.streams.info(bulkStream)).state.messages,
    unpublished: Number(rows[0]!.n),
  }).toEqual({ total: 10_000, stored: 10_000, unpublished: 0 });
});
