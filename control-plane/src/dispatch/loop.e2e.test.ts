/**
 * The dispatch loop on real parts: a control plane that dies mid-batch (after publishing some chunks, and
 * after a publish whose confirmation it never recorded) loses nothing — the restarted loop publishes the rest,
 * and the queue drops what was already there; dead jobs fail their scans with the recorded error. Once with the
 * in-process queue, once with NATS JetStream (unique stream per test).
 */
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectQueue } from '../queue/jetstream/connect.js';
import { createJetStreamDispatcher } from '../queue/jetstream/dispatcher.js';
import { createInProcessQueue } from '../queue/in-process.js';
import type { JobDispatcher } from '../queue/types.js';
import { openBackends, startServices, withPublish, type Backends } from '../services/testdata/harness.js';
import type { MetadataStores } from '../services/types.js';
import { UNPUBLISHED_SCAN, type PgScanOutboxStore } from '../store/postgres/scan-outbox.js';

let backends: Backends;
const user = { type: 'system' as const, id: null };
let orgs = 0;

beforeAll(async () => {
  backends = await openBackends();
});
afterAll(() => backends?.dispose());

async function orgWithImages(count: number): Promise<string> {
  const org = (await backends.stores.orgs.createOrg({ slug: `dispatch-${++orgs}`, name: 'Dispatch' })).id;
  await backends.db.query(
    `WITH repo AS (INSERT INTO repositories (org_id, name) VALUES ($1, 'fleet/app') RETURNING id)
     INSERT INTO images (org_id, repository_id, name, digest)
     SELECT $1, repo.id, 'fleet/app', 'sha256:' || encode(sha256(convert_to($1::text || '-' || g, 'UTF8')), 'hex')
     FROM repo, generate_series(1, $2::integer) g`,
    [org, count],
  );
  return org;
}

/**
 * Stores of a control plane that dies while recording its second published chunk: the queue stored the chunk,
 * the outbox never heard, and nothing after it is published. A batch's chunks are recorded by the batch mark
 * (markBatchPublished), single scans and swept ones per scan (markPublished); both die on their second call.
 */
function dyingOutbox(): MetadataStores {
  const real = backends.stores.outbox as PgScanOutboxStore;
  const dying = <A extends unknown[], R>(record: (...args: A) => Promise<R>) => {
    let calls = 0;
    return async (...args: A): Promise<R> => {
      if (++calls === 2)
        throw Object.assign(new Error('died before recording'), { code: 'CP_DB_UNAVAILABLE' });
      return record(...args);
    };
  };
  const outbox: PgScanOutboxStore = {
    ...real,
    markPublished: dying(real.markPublished),
    markBatchPublished: dying(real.markBatchPublished),
  };
  return { ...backends.stores, outbox };
}

/** The org's scans in the outbox: queued, and neither their published_at nor their batch's mark says published. */
async function unpublished(org: string): Promise<number> {
  const { rows } = await backends.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM scans s WHERE s.org_id = $1 AND ${UNPUBLISHED_SCAN}`,
    [org],
  );
  return Number(rows[0]!.n);
}

/**
 * The queue failing its first publish call (a batch's early publish, sent with the insert) after storing the
 * first `stored` jobs of it; later calls go through.
 */
function failingFirstPublish(queue: JobDispatcher, stored: number): JobDispatcher {
  let calls = 0;
  return withPublish(queue, async (jobs) => {
    if (++calls > 1) return queue.publish(jobs);
    await queue.publish(jobs.slice(0, stored));
    throw Object.assign(new Error('queue lost mid-publish'), { code: 'CP_QUEUE_UNAVAILABLE' });
  });
}

/** A crash mid-batch, then a restart: what the queue holds and what the outbox says at each step. */
async function crashAndRestart(queue: JobDispatcher, stored: () => Promise<number>) {
  const org = await orgWithImages(3_000);
  // first control plane: the early publish (with the insert) fails after 500 jobs, so the batch commits without
  // its mark and is sent page by page: chunk 1 published and recorded, chunk 2 published but not recorded,
  // chunk 3 published while chunk 2 was being recorded (publisher.ts overlaps the two), then it dies
  const first = await startServices(backends, {
    dispatcher: failingFirstPublish(queue, 500),
    stores: dyingOutbox(),
    dispatch: { chunkSize: 1_000 },
  });
  const batch = await first.services.scans.bulkScan(org, { filter: {}, priority: 'scheduled' }, user);
  await first.close();
  const afterCrash = { stored: await stored(), unpublished: await unpublished(org) };
  // restarted control plane: its loop's start-up sweep publishes whatever has no confirmation
  const second = await startServices(backends, {
    dispatcher: queue,
    dispatch: { chunkSize: 1_000, intervalMs: 60_000 },
  });
  await second.services.dispatchLoop.start();
  const afterRestart = { stored: await stored(), unpublished: await unpublished(org) };
  await second.close();
  return { total: batch.total, afterCrash, afterRestart };
}

describe('restart mid-batch', () => {
  it('in-process queue: nothing lost, nothing twice', async () => {
    const queue = createInProcessQueue();
    const outcome = await crashAndRestart(queue, () => queue.pending());
    await queue.close();
    expect(outcome).toEqual({
      total: 3_000,
      afterCrash: { stored: 3_000, unpublished: 2_000 },
      afterRestart: { stored: 3_000, unpublished: 0 },
    });
  });

  it('in-process queue lost with its process (all-in-one restart): forgetPublished, and the loop publishes all again', async () => {
    const org = await orgWithImages(50);
    const first = createInProcessQueue();
    const cp = await startServices(backends, { dispatcher: first, dispatch: { intervalMs: 60_000 } });
    await cp.services.scans.bulkScan(org, { filter: {}, priority: 'scheduled' }, user);
    await cp.close();
    await first.close(); // the process ends: its queue and the 50 jobs in it are gone
    const fresh = createInProcessQueue();
    const beforeForget = { pending: await fresh.pending(), unpublished: await unpublished(org) };
    const forgotten = await backends.stores.outbox.forgetPublished();
    const restarted = await startServices(backends, { dispatcher: fresh, dispatch: { intervalMs: 60_000 } });
    await restarted.services.dispatchLoop.start();
    // every queued scan of the database (other tests' orgs too) is in the fresh queue again
    const { rows } = await backends.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM scans WHERE status = 'queued'`,
    );
    const afterRestart = {
      everyQueuedScanPending: (await fresh.pending()) === Number(rows[0]!.n),
      unpublished: await unpublished(org),
    };
    await restarted.close();
    await fresh.close();
    expect({ beforeForget, forgottenAtLeast: forgotten >= 50, afterRestart }).toEqual({
      beforeForget: { pending: 0, unpublished: 0 },
      forgottenAtLeast: true,
      afterRestart: { everyQueuedScanPending: true, unpublished: 0 },
    });
  });

  describe('NATS JetStream', () => {
    let nc: NatsConnection;
    const stream = `VIGIL_TEST_${randomBytes(4).toString('hex')}`;
    beforeAll(async () => {
      nc = await connectQueue({ servers: process.env.VIGIL_TEST_NATS_URL ?? '127.0.0.1:4222' });
    });
    afterAll(async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(stream).catch(() => false);
      await nc.close();
    });

    it('nothing lost, nothing twice (the stream drops the republished chunk by scan id)', async () => {
      const dispatcher = createJetStreamDispatcher({
        connection: nc,
        stream,
        subjectPrefix: `t${stream.toLowerCase()}`,
      });
      await dispatcher.setup();
      const jsm = await jetstreamManager(nc);
      const outcome = await crashAndRestart(
        dispatcher,
        async () => (await jsm.streams.info(stream)).state.messages,
      );
      await dispatcher.close();
      expect(outcome).toEqual({
        total: 3_000,
        afterCrash: { stored: 3_000, unpublished: 2_000 },
        afterRestart: { stored: 3_000, unpublished: 0 },
      });
    });
  });
});

describe('dead jobs', () => {
  it('fail a queued or running scan with CP_SCAN_WORKER_LOST and leave a finished one alone', async () => {
    const org = await orgWithImages(3);
    const queue = createInProcessQueue({ maxDeliver: 2, nakBackoffMs: [1] });
    const cp = await startServices(backends, { queue, dispatch: { intervalMs: 60_000 } });
    await cp.services.dispatchLoop.start();
    const batch = await cp.services.scans.bulkScan(org, { filter: {}, priority: 'ci' }, user);
    const [neverClaimed, running, finished] = await backends.stores.scans.listQueuedScans(org, batch.id);
    await cp.worker.claimJob({ scanId: running!.id, attempt: 1 }, { metadata: cp.metadata });
    await cp.worker.claimJob({ scanId: finished!.id, attempt: 1 }, { metadata: cp.metadata });
    await cp.services.scans.cancelScan(org, finished!.id, user);
    // every worker that takes a job dies (never acks): two deliveries each, then the jobs are dead
    const source = queue.source({ autoHeartbeat: false });
    for (let i = 0; i < 6; i++) (await source.next(new AbortController().signal))?.nak(0);
    await source.close();
    const statuses = await Promise.all(
      [neverClaimed, running, finished].map(async (s) => {
        for (let i = 0; i < 50; i++) {
          const scan = await backends.stores.scans.getScan(org, s!.id);
          if (scan?.status !== 'queued' && scan?.status !== 'running') return [scan?.status, scan?.error];
          await new Promise((r) => setTimeout(r, 20));
        }
        return ['still active'];
      }),
    );
    await cp.close();
    const lost = ['failed', { code: 'CP_SCAN_WORKER_LOST', message: 'worker lost after 2 deliveries' }];
    expect(statuses).toEqual([lost, lost, ['cancelled', null]]);
  });
});
