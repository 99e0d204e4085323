/**
 * The batch mark of the outbox (0007): a bulk rescan's publisher records each confirmed page as the batch's
 * `published_through`, and the outbox (listUnpublished) leaves out the never-claimed queued scans of the batch up to
 * that id, while a scan the reaper re-queued (attempt >= 1) is in the outbox again whatever the mark says;
 * forgetPublished forgets the marks too.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pgStores } from './index.js';
import { pgScanOutboxStore, type PgScanOutboxStore } from './scan-outbox.js';
import type { SqlDatabase } from './sql.js';
import { createMigratedDatabase, type ScratchDatabase } from './testdata/scratch-database.js';

let scratch: ScratchDatabase;
let db: SqlDatabase;
let stores: ReturnType<typeof pgStores>;
let outbox: PgScanOutboxStore;

const digest = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;

beforeAll(async () => {
  ({ scratch, db } = await createMigratedDatabase());
  stores = pgStores(db);
  outbox = pgScanOutboxStore(db);
});
afterAll(() => scratch?.drop());

/** An organisation with `count` images of distinct digests and a batch over all of them; its scan ids in id order. */
async function batchOf(slug: string, count: number): Promise<{ org: string; batch: string; ids: string[] }> {
  const org = (await stores.orgs.createOrg({ slug, name: slug })).id;
  for (let i = 0; i < count; i++)
    await stores.images.upsertImage(org, { repository: `reg.test/${slug}`, digest: digest(`${slug}-${i}`) });
  const batch = await stores.scans.createBatch(org, { filter: {}, dbVersion: 'v1', priority: 'scheduled' });
  const ids = (await stores.scans.listQueuedScans(org, batch.id, { limit: 1000 })).map((s) => s.id);
  return { org, batch: batch.id, ids };
}

it('leaves out the batch scans up to the mark, only raises it, and puts a re-queued scan back in the outbox', async () => {
  const a = await batchOf('mark-a', 6);
  const b = await batchOf('mark-b', 2);
  const unpublished = async (org: string) =>
    (await outbox.listUnpublished({ limit: 1000 })).filter((s) => s.orgId === org).map((s) => s.id);
  const before = await unpublished(a.org);
  const marks = [
    await outbox.markBatchPublished(a.org, a.batch, a.ids[2]!),
    await outbox.markBatchPublished(a.org, a.batch, a.ids[0]!), // lower: the mark stays at ids[2]
    await outbox.markBatchPublished(b.org, a.batch, a.ids[5]!), // another organisation's batch: nothing
    await outbox.markBatchPublished(a.org, a.batch, 'not-a-uuid'),
  ];
  const afterMark = await unpublished(a.org);
  // ids[1] claimed by a worker that then went quiet: the reaper re-queues it (published_at NULL, attempt 1)
  await stores.scans.transitionScan(a.org, a.ids[1]!, { to: 'running', attempt: 1 });
  const requeued = await stores.scans.transitionScan(a.org, a.ids[1]!, {
    to: 'queued',
    attempt: 1,
    idleBefore: new Date(Date.now() + 60_000),
  });
  const afterRequeue = await unpublished(a.org);
  await outbox.markBatchPublished(a.org, a.batch, a.ids[5]!);
  const afterLastMark = await unpublished(a.org);
  const marked = await outbox.markPublished([a.ids[1]!]);
  const afterSweep = await unpublished(a.org);
  // the in-process queue lost with its process: every publication is forgotten, marks included
  const forgotten = await outbox.forgetPublished();
  const afterForget = await unpublished(a.org);
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM batches WHERE published_through IS NOT NULL`,
  );
  expect({
    before,
    marks,
    afterMark,
    requeued: [requeued.status, requeued.attempt],
    afterRequeue,
    afterLastMark,
    marked,
    afterSweep,
    otherBatch: await unpublished(b.org),
    forgotten,
    afterForget,
    marksLeft: rows[0]!.n,
  }).toEqual({
    // one priority and one created_at (one statement): the outbox's order is then the id order
    before: a.ids,
    marks: [true, true, false, false],
    afterMark: a.ids.slice(3),
    requeued: ['queued', 1],
    afterRequeue: [a.ids[1], ...a.ids.slice(3)],
    afterLastMark: [a.ids[1]],
    marked: 1,
    afterSweep: [],
    otherBatch: b.ids,
    // five under a's mark, one by published_at
    forgotten: 6,
    afterForget: a.ids,
    marksLeft: 0,
  });
});

it('createBatch answers the counts of the batch it inserted, as getBatch reads them', async () => {
  const a = await batchOf('counts', 3);
  const org = a.org;
  // a second batch over the same images: every digest has an active scan, so nothing is inserted
  const empty = await stores.scans.createBatch(org, { filter: {}, dbVersion: 'v1', priority: 'ci' });
  const forced = await stores.scans.createBatch(org, {
    imageIds: [...(await stores.images.listImages(org, {})).items.map((i) => i.id), crypto.randomUUID()],
    dbVersion: 'v1',
    priority: 'ci',
    force: true,
  });
  const shape = (batch: Awaited<ReturnType<typeof stores.scans.createBatch>> | null) =>
    batch && { requested: batch.requested, matched: batch.matched, total: batch.total, counts: batch.counts };
  const counts = (queued: number) => ({ queued, running: 0, completed: 0, failed: 0, cancelled: 0 });
  const emptyShape = { requested: 3, matched: 3, total: 0, counts: counts(0) };
  const forcedShape = { requested: 4, matched: 3, total: 3, counts: counts(3) };
  expect({
    empty: shape(empty),
    emptyRead: shape(await stores.scans.getBatch(org, empty.id)),
    forced: shape(forced),
    forcedRead: shape(await stores.scans.getBatch(org, forced.id)),
  }).toEqual({
    empty: emptyShape,
    emptyRead: emptyShape,
    forced: forcedShape,
    forcedRead: forcedShape,
  });
});
