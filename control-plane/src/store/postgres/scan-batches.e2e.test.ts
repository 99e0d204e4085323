import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  EarlyDispatch,
  MetadataStores,
  ScanRecord,
  ScanStore,
  UnpublishedScan,
} from '../../services/types.js';
import { pgStores } from './index.js';
import { UNPUBLISHED_SCAN } from './scan-outbox.js';
import { pgScanStore } from './scans.js';
import type { SqlClient, SqlDatabase } from './sql.js';
import { batchLockWaiter, lockWaiters } from './testdata/batch-lock.js';
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

/** createBatch without and with an early dispatch (one that accepts every job): the batch is the same. */
const MODES: Array<[string, EarlyDispatch | undefined]> = [
  ['insert only', undefined],
  ['early dispatch', async () => true],
];

/** The same database, failing (CP_DB_UNAVAILABLE) the statements that match `pattern` (inside transactions too). */
function failingStatement(inner: SqlDatabase, pattern: RegExp): SqlDatabase {
  const wrap = (c: SqlClient): SqlClient => ({
    query: (text, values) =>
      pattern.test(text.trim())
        ? Promise.reject(Object.assign(new Error('connection lost'), { code: 'CP_DB_UNAVAILABLE' }))
        : c.query(text, values),
    exec: (script) => c.exec(script),
  });
  return {
    ...wrap(inner),
    transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))),
    close: () => inner.close(),
  };
}

/** Several sessions run at once (Postgres), or one statement at a time (PGlite, store-suites.e2e.test.ts). */
const concurrentSessions = (): boolean => !scratch.url.startsWith('pglite:');

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

  it.each(MODES)(
    'selects by id (%s): foreign and unknown ids are not matched, one scan per digest, every image of it points at the scan',
    async (_, dispatch) => {
      const org = await newOrg();
      const other = await newOrg();
      const put = async (o: string, repository: string, label: string) =>
        (await stores.images.upsertImage(o, { repository, digest: digest(label) })).image;
      const x = await put(org, 'x', 'shared');
      const y = await put(org, 'y', 'shared');
      const z = await put(org, 'z', 'z');
      const foreign = await put(other, 'x', 'foreign');
      const batch = await stores.scans.createBatch(
        org,
        {
          imageIds: [x.id, y.id, z.id, z.id, foreign.id, '00000000-0000-4000-8000-000000000000'],
          dbVersion: 'db-1',
          priority: 'manual',
        },
        dispatch,
      );
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
    },
  );

  it.each(MODES)(
    'skips digests with an active scan unless forced, and filters by text (%s)',
    async (_, dispatch) => {
      const org = await newOrg();
      for (const label of ['web-1', 'web-2', 'db-1'])
        await stores.images.upsertImage(org, { repository: label.split('-')[0]!, digest: digest(label) });
      const web = { filter: { text: 'web' }, dbVersion: 'v', priority: 'scheduled' } as const;
      const first = await stores.scans.createBatch(org, web, dispatch);
      const second = await stores.scans.createBatch(org, web, dispatch);
      const forced = await stores.scans.createBatch(
        org,
        { filter: {}, dbVersion: 'v', priority: 'manual', force: true },
        dispatch,
      );
      const summary = (b: typeof first) => [b.requested, b.matched, b.total, b.forced];
      expect([summary(first), summary(second), summary(forced)]).toEqual([
        [2, 2, 2, false],
        [2, 2, 0, false],
        [3, 3, 3, true],
      ]);
    },
  );

  it.each(
    MODES.flatMap(([mode, dispatch]) =>
      [
        { dbVersion: 'v', priority: 'ci' },
        { imageIds: [], filter: {}, dbVersion: 'v', priority: 'ci' },
        { imageIds: ['nope'], dbVersion: 'v', priority: 'ci' },
        { filter: {}, dbVersion: 'v', priority: 'asap' },
      ].map((input) => [mode, input, dispatch] as const),
    ),
  )('refuses (%s) %j', async (_, input, dispatch) => {
    const org = await newOrg();
    await expect(
      stores.scans.createBatch(org, input as Parameters<ScanStore['createBatch']>[1], dispatch),
    ).rejects.toMatchObject({
      code: 'CP_INVALID_ARGUMENT',
    });
    // nothing of a refused batch is left behind
    const { rows } = await db.query('SELECT count(*)::int AS n FROM batches WHERE org_id = $1', [org]);
    expect(rows[0]).toEqual({ n: 0 });
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

/** An org with `count` images of the repository 'early', one of them with an active scan of DB version 'db-1'. */
async function orgWithActiveImage(count: number): Promise<{ org: string; activeDigest: string }> {
  const org = await newOrg();
  const first = await stores.images.upsertImage(org, {
    repository: 'early',
    digest: digest(`early-${org}-0`),
  });
  await db.query(
    `INSERT INTO images (org_id, repository_id, name, digest)
     SELECT $1, $2, 'early', 'sha256:' || encode(sha256(convert_to($4 || '-' || n, 'UTF8')), 'hex')
     FROM generate_series(1, $3::integer) n`,
    [org, first.image.repositoryId, count - 1, org],
  );
  await stores.scans.createScan(org, { imageId: first.image.id, dbVersion: 'db-1', priority: 'ci' });
  return { org, activeDigest: first.image.digest };
}

describe('early dispatch: jobs published with the insert', () => {
  it('hands every new scan to the dispatch before the commit and records the batch published in the same transaction', async () => {
    const { org, activeDigest } = await orgWithActiveImage(300);
    const rec = recording(db);
    const sent: UnpublishedScan[] = [];
    const batch = await pgScanStore(rec.db).createBatch(
      org,
      { filter: {}, dbVersion: 'db-1', priority: 'scheduled' },
      async (scans) => {
        sent.push(...scans);
        return true;
      },
    );
    const { rows: stored } = await db.query<{
      id: string;
      image_id: string;
      digest: string;
      created_at: Date;
    }>(
      `SELECT s.id, s.image_id, s.digest, s.created_at FROM scans s WHERE s.org_id = $1 AND s.batch_id = $2 ORDER BY s.id`,
      [org, batch.id],
    );
    const { rows: outbox } = await db.query(
      `SELECT count(*)::int AS unpublished FROM scans s WHERE s.org_id = $1 AND s.batch_id = $2 AND ${UNPUBLISHED_SCAN}`,
      [org, batch.id],
    );
    const byId = [...sent].sort((a, b) => (a.id < b.id ? -1 : 1));
    expect({
      counts: [batch.requested, batch.matched, batch.total, batch.counts.queued],
      scanInserts: rec.statements.filter((s) => /INSERT INTO scans/.test(s)).length,
      activeDigestSent: sent.some((s) => s.digest === activeDigest),
      sent: byId.map((s) => ({ id: s.id, image_id: s.imageId, digest: s.digest, created_at: s.createdAt })),
      shape: [
        ...new Set(
          sent.map((s) => JSON.stringify([s.orgId, s.repository, s.priority, s.dbVersion, s.attempt])),
        ),
      ],
      outbox: outbox[0],
    }).toEqual({
      counts: [300, 300, 299, 299],
      scanInserts: 1,
      activeDigestSent: false,
      sent: stored,
      shape: [JSON.stringify([org, 'early', 'scheduled', 'db-1', 0])],
      outbox: { unpublished: 0 },
    });
  });

  it('claims that find no scan wait for the batch being created, sharing one lock wait, then find their scans queued', async () => {
    const { org } = await orgWithActiveImage(20);
    let claims: Promise<Array<ScanRecord | null>> | undefined;
    let waiting: number | undefined;
    const batch = await stores.scans.createBatch(
      org,
      { filter: {}, dbVersion: 'db-1', priority: 'ci' },
      async (scans) => {
        claims = Promise.all(scans.map((s) => stores.outbox.findScan(s.id, { awaitBatches: true })));
        // Postgres: each claim's first read finds nothing; the misses queue behind the batch's lock in one shared
        // wait (a claim takes the lock only after a miss). PGlite runs one statement at a time, so there the
        // claims run after the commit.
        if (concurrentSessions()) {
          await batchLockWaiter(db);
          await new Promise((resolve) => setTimeout(resolve, 100)); // every claim has missed by now
          waiting = await lockWaiters(db);
        }
        return true;
      },
    );
    const found = await claims!;
    expect({
      waiting,
      found: [...new Set(found.map((s) => s && JSON.stringify([s.status, s.batchId, s.attempt])))],
      count: found.length,
    }).toEqual({
      // one lock request at a time however many claims missed (not measured on PGlite: no lock is waited for)
      waiting: concurrentSessions() ? 1 : undefined,
      found: [JSON.stringify(['queued', batch.id, 0])],
      count: 19,
    });
  });

  it('a batch that rolls back after its jobs went out leaves nothing: each job finds no scan', async () => {
    const { org } = await orgWithActiveImage(50);
    const sent: string[] = [];
    // the control plane loses its database between the insert and the commit: the batch's last statement fails
    const dying = failingStatement(db, /^UPDATE batches b SET requested/);
    const failure = await pgScanStore(dying)
      .createBatch(org, { filter: {}, dbVersion: 'db-1', priority: 'ci' }, async (scans) => {
        sent.push(...scans.map((s) => s.id));
        return true;
      })
      .catch((error: { code: string }) => error.code);
    const claims = await Promise.all(sent.map((id) => stores.outbox.findScan(id, { awaitBatches: true })));
    const { rows } = await db.query(
      `SELECT (SELECT count(*)::int FROM batches WHERE org_id = $1) AS batches,
              (SELECT count(*)::int FROM scans WHERE org_id = $1 AND batch_id IS NOT NULL) AS scans`,
      [org],
    );
    expect({ failure, sent: sent.length, found: claims.filter(Boolean).length, left: rows[0] }).toEqual({
      failure: 'CP_DB_UNAVAILABLE',
      sent: 49,
      found: 0,
      left: { batches: 0, scans: 0 },
    });
  });

  it.each([
    ['refuses', async () => false],
    ['rejects', async () => Promise.reject(new Error('queue down'))],
  ] as const)(
    'a dispatch that %s leaves the committed batch unmarked: its scans stay in the outbox',
    async (_, dispatch) => {
      const { org } = await orgWithActiveImage(30);
      const batch = await stores.scans.createBatch(
        org,
        { filter: {}, dbVersion: 'db-1', priority: 'ci' },
        dispatch,
      );
      const { rows } = await db.query(
        `SELECT (SELECT published_through FROM batches WHERE org_id = $1 AND id = $2) AS mark,
              (SELECT count(*)::int FROM scans s WHERE s.org_id = $1 AND s.batch_id = $2 AND ${UNPUBLISHED_SCAN}) AS unpublished`,
        [org, batch.id],
      );
      expect({ total: batch.total, ...rows[0] }).toEqual({ total: 29, mark: null, unpublished: 29 });
    },
  );
});
