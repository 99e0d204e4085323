import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetadataStores, ScanStore } from '../../services/types.js';
import { pgStores } from './index.js';
import { pgScanStore } from './scans.js';
import type { SqlClient, SqlDatabase } from './sql.js';
import { createMigratedDatabase, type ScratchDatabase } from './testdata/scratch-database.js';

let scratch: ScratchDatabase;
let db: SqlDatabase;
let stores: MetadataStores;

const digest = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;
let orgCount = 0;
const newOrg = async (): Promise<string> =>
  (await stores.orgs.createOrg({ slug: `batch-${++orgCount}`, name: 'Batch' })).id;

beforeAll(async () => {
  ({ scratch, db } = await createMigratedDatabase());
  stores = pgStores(db);
});
afterAll(() => scratch?.drop());

/** The same database, recording every statement sent (inside transactions too). */
function recording(inner: SqlDatabase): { db: SqlDatabase; statements: string[] } {
  const statements: string[] = [];
  const wrap = (c: SqlClient): SqlClient => ({
    query: (text, values) => (statements.push(text), c.query(text, values)),
    exec: (script) => (statements.push(script), c.exec(script)),
  });
  return {
    statements,
    db: {
      ...wrap(inner),
      transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))),
      close: () => inner.close(),
    },
  };
}

describe('bulk rescans', () => {
  it('creates 10,000 scans in ONE insert, pages them out in chunks, tracks progress and cancels the rest', async () => {
    const org = await newOrg();
    const repo = await stores.images.upsertImage(org, { repository: 'bulk', digest: digest('bulk-0') });
    // seed 9,999 more images of the repository in one statement (setup only)
    await db.query(
      `INSERT INTO images (org_id, repository_id, name, digest)
       SELECT $1, $2, 'bulk', 'sha256:' || encode(sha256(convert_to('bulk-' || n, 'UTF8')), 'hex') FROM generate_series(1, 9999) n`,
      [org, repo.image.repositoryId],
    );
    // one image already has an active scan of this DB version: the batch skips it
    const active = await stores.scans.createScan(org, {
      imageId: repo.image.id,
      dbVersion: 'db-1',
      priority: 'ci',
    });

    const rec = recording(db);
    const batch = await pgScanStore(rec.db).createBatch(org, {
      filter: { repositoryId: repo.image.repositoryId },
      dbVersion: 'db-1',
      priority: 'scheduled',
    });
    const scanInserts = rec.statements.filter((s) => /INSERT INTO scans/.test(s));

    const queued: string[] = [];
    for (let after: string | null = null; ;) {
      const chunk = await stores.scans.listQueuedScans(org, batch.id, { afterId: after, limit: 1000 });
      if (chunk.length === 0) break;
      queued.push(...chunk.map((s) => s.id));
      after = chunk.at(-1)!.id;
    }
    // workers pick up three scans; one finishes
    const [a, b, c] = queued as [string, string, string];
    for (const id of [a, b, c]) await stores.scans.transitionScan(org, id, { to: 'running' });
    await stores.scans.transitionScan(org, c, { to: 'completed', attempt: 1 });
    const progress = await stores.scans.getBatch(org, batch.id);
    const { cancelled } = await stores.scans.cancelBatch(org, batch.id);
    const after = await stores.scans.getBatch(org, batch.id);

    expect({
      batch: { ...batch, id: typeof batch.id, createdAt: typeof batch.createdAt },
      scanInserts: scanInserts.length,
      queued: {
        count: queued.length,
        unique: new Set(queued).size,
        ordered: queued.every((id, i) => i === 0 || queued[i - 1]! < id),
      },
      activeSkipped: !queued.includes(active.scan.id),
      progress: progress?.counts,
      cancelled: {
        count: cancelled.length,
        running: cancelled
          .filter((x) => x.previousStatus === 'running')
          .map((x) => x.id)
          .sort(),
      },
      after: { counts: after?.counts, cancelledAt: after?.cancelledAt instanceof Date },
      again: (await stores.scans.cancelBatch(org, batch.id)).cancelled,
    }).toEqual({
      batch: {
        id: 'string',
        orgId: org,
        priority: 'scheduled',
        dbVersion: 'db-1',
        forced: false,
        requested: 10_000,
        matched: 10_000,
        total: 9_999,
        counts: { queued: 9_999, running: 0, completed: 0, failed: 0, cancelled: 0 },
        createdAt: 'object',
        cancelledAt: null,
      },
      scanInserts: 1,
      queued: { count: 9_999, unique: 9_999, ordered: true },
      activeSkipped: true,
      progress: { queued: 9_996, running: 2, completed: 1, failed: 0, cancelled: 0 },
      cancelled: { count: 9_998, running: [a, b].sort() },
      after: {
        counts: { queued: 0, running: 0, completed: 1, failed: 0, cancelled: 9_998 },
        cancelledAt: true,
      },
      again: [],
    });
  });

  it('selects by id: foreign and unknown ids are not matched, one scan per digest, every image of it points at the scan', async () => {
    const org = await newOrg();
    const other = await newOrg();
    const put = async (o: string, repository: string, label: string) =>
      (await stores.images.upsertImage(o, { repository, digest: digest(label) })).image;
    const x = await put(org, 'x', 'shared');
    const y = await put(org, 'y', 'shared');
    const z = await put(org, 'z', 'z');
    const foreign = await put(other, 'x', 'foreign');
    const batch = await stores.scans.createBatch(org, {
      imageIds: [x.id, y.id, z.id, z.id, foreign.id, '00000000-0000-4000-8000-000000000000'],
      dbVersion: 'db-1',
      priority: 'manual',
    });
    const queued = await stores.scans.listQueuedScans(org, batch.id);
    const last = async (id: string) => (await stores.images.getImage(org, id))?.lastScanId;
    const sharedScan = queued.find((s) => s.digest === digest('shared'))!;
    expect({
      counts: [batch.requested, batch.matched, batch.total],
      digests: queued.map((s) => s.digest).sort(),
      priority: [...new Set(queued.map((s) => s.priority))],
      lastScans: [await last(x.id), await last(y.id)],
      foreignUntouched: (await stores.images.getImage(other, foreign.id))?.lastScanId,
    }).toEqual({
      counts: [5, 3, 2],
      digests: [digest('shared'), digest('z')].sort(),
      priority: ['manual'],
      lastScans: [sharedScan.id, sharedScan.id],
      foreignUntouched: null,
    });
  });

  it('skips digests with an active scan unless forced, and filters by text', async () => {
    const org = await newOrg();
    for (const label of ['web-1', 'web-2', 'db-1'])
      await stores.images.upsertImage(org, { repository: label.split('-')[0]!, digest: digest(label) });
    const first = await stores.scans.createBatch(org, {
      filter: { text: 'web' },
      dbVersion: 'v',
      priority: 'scheduled',
    });
    const second = await stores.scans.createBatch(org, {
      filter: { text: 'web' },
      dbVersion: 'v',
      priority: 'scheduled',
    });
    const forced = await stores.scans.createBatch(org, {
      filter: {},
      dbVersion: 'v',
      priority: 'manual',
      force: true,
    });
    const summary = (b: typeof first) => [b.requested, b.matched, b.total, b.forced];
    expect([summary(first), summary(second), summary(forced)]).toEqual([
      [2, 2, 2, false],
      [2, 2, 0, false],
      [3, 3, 3, true],
    ]);
  });

  it.each([
    [{ dbVersion: 'v', priority: 'ci' }],
    [{ imageIds: [], filter: {}, dbVersion: 'v', priority: 'ci' }],
    [{ imageIds: ['nope'], dbVersion: 'v', priority: 'ci' }],
    [{ filter: {}, dbVersion: 'v', priority: 'asap' }],
  ])('refuses %j', async (input) => {
    const org = await newOrg();
    await expect(
      stores.scans.createBatch(org, input as Parameters<ScanStore['createBatch']>[1]),
    ).rejects.toMatchObject({
      code: 'CP_INVALID_ARGUMENT',
    });
  });

  it('answers null / CP_NOT_FOUND for unknown batches', async () => {
    const org = await newOrg();
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect([
      await stores.scans.getBatch(org, unknown),
      await stores.scans.listQueuedScans(org, unknown).catch((e: { code: string }) => e.code),
      await stores.scans.cancelBatch(org, unknown).catch((e: { code: string }) => e.code),
    ]).toEqual([null, 'CP_NOT_FOUND', 'CP_NOT_FOUND']);
  });
});
