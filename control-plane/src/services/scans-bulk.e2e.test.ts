/**
 * ScanService.bulkScan and cancelBatch on real parts (scratch Postgres, chdb, the in-process queue): a bulk rescan
 * of 10,000 images by filter (one insert, its jobs published beside it; timed, not asserted), an early publish
 * slower than its limit, a worker's claim racing the batch's commit, and cancelling a queued batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessQueue } from '../queue/in-process.js';
import type { CancelMessage } from '../queue/types.js';
import { UNPUBLISHED_SCAN } from '../store/postgres/scan-outbox.js';
import { batchLockWaiter } from '../store/postgres/testdata/batch-lock.js';
import {
  openBackends,
  startServices,
  withPublish,
  type Backends,
  type ServiceInstance,
} from './testdata/harness.js';

let backends: Backends;
let cp: ServiceInstance;
const user = { type: 'user' as const, id: 'u-1' };
let orgs = 0;
const newOrg = async (): Promise<string> =>
  (await backends.stores.orgs.createOrg({ slug: `bulk-${++orgs}`, name: 'Bulk' })).id;

beforeAll(async () => {
  backends = await openBackends();
  cp = await startServices(backends);
});
afterAll(async () => {
  await cp?.close();
  await backends?.dispose();
});

/** Inserts `count` images of one repository in one statement (seeding; the service paths are what is tested). */
async function seedImages(org: string, repository: string, count: number): Promise<void> {
  await backends.db.query(
    `WITH repo AS (INSERT INTO repositories (org_id, name) VALUES ($1, $2) RETURNING id)
     INSERT INTO images (org_id, repository_id, name, digest)
     SELECT $1, repo.id, $2, 'sha256:' || encode(sha256(convert_to($2 || '-' || g, 'UTF8')), 'hex')
     FROM repo, generate_series(1, $3::integer) g`,
    [org, repository, count],
  );
}

describe('bulkScan', () => {
  it('rescans 10,000 images matching a filter: one batch, one insert, every job published once, with the insert', async () => {
    const org = await newOrg();
    await seedImages(org, 'fleet/bulk', 10_000);
    await seedImages(org, 'fleet/other', 5);
    const queue = createInProcessQueue();
    let publishCalls = 0;
    const counting = withPublish(queue, (jobs) => {
      publishCalls++;
      return queue.publish(jobs);
    });
    const instance = await startServices(backends, { dispatcher: counting });
    const started = performance.now();
    const batch = await instance.services.scans.bulkScan(
      org,
      { filter: { text: 'fleet/bulk' }, priority: 'scheduled' },
      user,
    );
    const elapsedMs = performance.now() - started;
    const jobs = (await backends.stores.scans.listQueuedScans(org, batch.id, { limit: 10_000 })).length;
    const { rows } = await backends.db.query<{ published: string; unpublished: string; publishedAt: string }>(
      // the batch's mark records the publication (0007), not each scan's published_at
      `SELECT count(*) FILTER (WHERE NOT (${UNPUBLISHED_SCAN})) AS published, count(*) FILTER (WHERE ${UNPUBLISHED_SCAN}) AS unpublished,
         count(*) FILTER (WHERE s.published_at IS NOT NULL) AS "publishedAt"
       FROM scans s WHERE s.org_id = $1 AND s.batch_id = $2`,
      [org, batch.id],
    );
    // reported, not asserted (timings are not test outcomes); docs/performance.md has the bench
    process.stderr.write(
      `bulkScan of 10,000 images by filter, in-process queue: ${elapsedMs.toFixed(0)} ms\n`,
    );
    await instance.close();
    const audit = await backends.stores.audit.listAudit(org, { action: 'batch.create' });
    expect({
      batch: { requested: batch.requested, matched: batch.matched, total: batch.total, counts: batch.counts },
      jobs,
      publishCalls,
      pending: await queue.pending(),
      outbox: rows[0],
      audit: audit.items.map((e) => e.details),
    }).toEqual({
      batch: {
        requested: 10_000,
        matched: 10_000,
        total: 10_000,
        counts: { queued: 10_000, running: 0, completed: 0, failed: 0, cancelled: 0 },
      },
      jobs: 10_000,
      publishCalls: 1,
      pending: 10_000,
      outbox: { published: '10000', unpublished: '0', publishedAt: '0' },
      audit: [
        { requested: 10_000, matched: 10_000, total: 10_000, forced: false, filter: { text: 'fleet/bulk' } },
      ],
    });
    await queue.close();
  });

  it('an early publish slower than its limit lets the batch commit unmarked; the scans are sent again, each stored once', async () => {
    const org = await newOrg();
    await seedImages(org, 'fleet/slow', 30);
    const queue = createInProcessQueue();
    const calls: number[] = [];
    // the queue answers the first publish (the one beside the insert) only after the limit has passed
    const slowFirst = withPublish(queue, async (jobs) => {
      calls.push(jobs.length);
      if (calls.length === 1) await new Promise((resolve) => setTimeout(resolve, 300));
      return queue.publish(jobs);
    });
    const instance = await startServices(backends, { dispatcher: slowFirst, dispatch: { earlyLimitMs: 50 } });
    const batch = await instance.services.scans.bulkScan(
      org,
      { filter: { text: 'fleet/slow' }, priority: 'ci' },
      user,
    );
    await new Promise((resolve) => setTimeout(resolve, 400)); // the late publish lands meanwhile
    const { rows } = await backends.db.query(
      `SELECT (SELECT published_through FROM batches WHERE org_id = $1 AND id = $2) AS mark,
              (SELECT count(*)::int FROM scans s WHERE s.org_id = $1 AND s.batch_id = $2 AND ${UNPUBLISHED_SCAN}) AS unpublished`,
      [org, batch.id],
    );
    await instance.close();
    expect({ total: batch.total, calls, pending: await queue.pending(), ...rows[0] }).toEqual({
      total: 30,
      // the early publish, then the batch's one page
      calls: [30, 30],
      // the late copies are dropped by scan id
      pending: 30,
      mark: expect.any(String),
      unpublished: 0,
    });
    await queue.close();
  });

  it("a worker's claim that arrives before its batch commits waits for the commit and proceeds", async () => {
    const org = await newOrg();
    await seedImages(org, 'fleet/early', 40);
    const queue = createInProcessQueue();
    let claim: Promise<{ proceed: boolean }> | undefined;
    const claimingFirst = withPublish(queue, async (jobs) => {
      // a worker takes the first job at once: its claim reaches the control plane before the insert commits
      claim ??= instance.worker.claimJob(
        { scanId: jobs[0]!.scanId, attempt: 1 },
        { metadata: instance.metadata },
      );
      await batchLockWaiter(backends.db);
      return queue.publish(jobs);
    });
    const instance = await startServices(backends, { dispatcher: claimingFirst });
    const batch = await instance.services.scans.bulkScan(
      org,
      { filter: { text: 'fleet/early' }, priority: 'ci' },
      user,
    );
    const claimed = await claim!;
    const { rows } = await backends.db.query(
      `SELECT count(*) FILTER (WHERE status = 'running')::int AS running, count(*) FILTER (WHERE ${UNPUBLISHED_SCAN})::int AS unpublished
       FROM scans s WHERE s.org_id = $1 AND s.batch_id = $2`,
      [org, batch.id],
    );
    await instance.close();
    expect({
      total: batch.total,
      proceed: claimed.proceed,
      pending: await queue.pending(),
      scans: rows[0],
    }).toEqual({
      total: 40,
      proceed: true,
      pending: 40,
      scans: { running: 1, unpublished: 0 },
    });
    await queue.close();
  });

  it('cancels a queued batch: every scan cancelled, no cancel message (no worker has them), claims dropped', async () => {
    const org = await newOrg();
    await seedImages(org, 'fleet/cancel', 50);
    const heard: CancelMessage[] = [];
    const source = cp.queue!.source();
    source.onCancel((m) => heard.push(m));
    const batch = await cp.services.scans.bulkScan(
      org,
      { filter: { repositoryId: undefined, text: 'fleet/cancel' }, priority: 'ci' },
      user,
    );
    const [one] = await backends.stores.scans.listQueuedScans(org, batch.id, { limit: 1 });
    const cancelled = await cp.services.scans.cancelBatch(org, batch.id, user);
    const claim = await cp.worker.claimJob({ scanId: one!.id, attempt: 1 }, { metadata: cp.metadata });
    await source.close();
    expect({
      counts: cancelled.counts,
      cancelledAt: cancelled.cancelledAt instanceof Date,
      heard,
      claim: claim.proceed,
      audit: (await backends.stores.audit.listAudit(org, { action: 'batch.cancel' })).items.map(
        (e) => e.details,
      ),
    }).toEqual({
      counts: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 50 },
      cancelledAt: true,
      heard: [],
      claim: false,
      audit: [{ cancelled: 50 }],
    });
  });
});
