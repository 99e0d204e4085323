/**
 * The scan store additions of 0002: claims with the queue's delivery count, failing a scan no worker claimed,
 * the report-stream marker, the summary a completion writes on every image of the digest (tenant-scoped),
 * uploads recorded as running scans outside dedup and outbox, and the outbox itself (priority order, the
 * `createdBefore` grace, marks, lookups by id).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRecord, MetadataStores, ScanRecord } from '../../services/types.js';
import { pgStores } from './index.js';
import type { SqlDatabase } from './sql.js';
import { createMigratedDatabase, type ScratchDatabase } from './testdata/scratch-database.js';

let scratch: ScratchDatabase;
let db: SqlDatabase;
let stores: MetadataStores;
let org: string;
let image: ImageRecord;
const digest = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;

beforeAll(async () => {
  ({ scratch, db } = await createMigratedDatabase());
  stores = pgStores(db);
  org = (await stores.orgs.createOrg({ slug: 'lifecycle', name: 'Lifecycle' })).id;
  image = (await stores.images.upsertImage(org, { repository: 'app', digest: digest('app') })).image;
});
afterAll(() => scratch?.drop());

let versions = 0;
const queued = async (img = image): Promise<ScanRecord> =>
  (await stores.scans.createScan(org, { imageId: img.id, dbVersion: `v${++versions}`, priority: 'ci' })).scan;
const outcome = (p: Promise<ScanRecord>): Promise<string> =>
  p.then(
    (s) => `${s.status}#${s.attempt}`,
    (e: { code: string }) => e.code,
  );

describe('claims with the delivery count', () => {
  it('claims only forward: n above the current attempt, from queued or running; never a finished scan', async () => {
    const scan = await queued();
    const cancelled = await queued();
    await stores.scans.cancelScan(org, cancelled.id);
    const steps = [
      await outcome(stores.scans.transitionScan(org, scan.id, { to: 'running', attempt: 2 })),
      await outcome(stores.scans.transitionScan(org, scan.id, { to: 'running', attempt: 2 })),
      await outcome(stores.scans.transitionScan(org, scan.id, { to: 'running', attempt: 1 })),
      await outcome(stores.scans.transitionScan(org, scan.id, { to: 'running', attempt: 5 })),
      await outcome(stores.scans.transitionScan(org, cancelled.id, { to: 'running', attempt: 1 })),
      await outcome(stores.scans.transitionScan(org, scan.id, { to: 'running', attempt: -1 })),
    ];
    expect(steps).toEqual([
      'running#2',
      'CP_SCAN_ATTEMPT_STALE',
      'CP_SCAN_ATTEMPT_STALE',
      'running#5',
      'CP_SCAN_TRANSITION_INVALID',
      'CP_INVALID_ARGUMENT',
    ]);
  });

  it('fails a queued scan only without an attempt (a job that could not be delivered)', async () => {
    const error = { code: 'CP_SCAN_WORKER_LOST', message: 'worker lost after 5 deliveries' };
    expect([
      await outcome(
        stores.scans.transitionScan(org, (await queued()).id, { to: 'failed', attempt: 0, error }),
      ),
      await outcome(stores.scans.transitionScan(org, (await queued()).id, { to: 'failed', error })),
    ]).toEqual(['CP_SCAN_TRANSITION_INVALID', 'failed#0']);
  });
});

describe('startReport', () => {
  it('starts one stream per current attempt of a running scan', async () => {
    const scan = await queued();
    const before = await stores.scans.startReport(org, scan.id, 1);
    await stores.scans.transitionScan(org, scan.id, { to: 'running', attempt: 1 });
    const first = await stores.scans.startReport(org, scan.id, 1);
    const second = await stores.scans.startReport(org, scan.id, 1);
    const stale = await stores.scans.startReport(org, scan.id, 2);
    await stores.scans.transitionScan(org, scan.id, { to: 'running', attempt: 2 });
    const next = await stores.scans.startReport(org, scan.id, 2);
    const unknown = await stores.scans
      .startReport(org, '00000000-0000-4000-8000-000000000000', 1)
      .catch((e: { code: string }) => e.code);
    const started = (r: { started: boolean; scan: ScanRecord }) => [r.started, r.scan.status, r.scan.attempt];
    expect([before, first, second, stale, next].map(started).concat([[unknown]])).toEqual([
      [false, 'queued', 0],
      [true, 'running', 1],
      [false, 'running', 1],
      [false, 'running', 1],
      [true, 'running', 2],
      ['CP_NOT_FOUND'],
    ]);
  });

  it("records the started stream's database version (the latest attempt's); refuses one over 200 characters", async () => {
    const scan = await queued();
    await stores.scans.transitionScan(org, scan.id, { to: 'running', attempt: 1 });
    const first = await stores.scans.startReport(org, scan.id, 1, 'db-v2');
    const tooLong = await stores.scans
      .startReport(org, scan.id, 2, 'v'.repeat(201))
      .catch((e: { code: string }) => e.code);
    await stores.scans.transitionScan(org, scan.id, { to: 'running', attempt: 2 });
    const unsaid = await stores.scans.startReport(org, scan.id, 2, '');
    const upload = (
      await stores.scans.createScan(org, {
        imageId: image.id,
        dbVersion: 'cli-db',
        priority: 'ci',
        upload: true,
      })
    ).scan;
    expect({
      first: [first.scan.dbVersion, first.scan.matchedDbVersion],
      tooLong,
      unsaid: unsaid.scan.matchedDbVersion,
      queued: (await queued()).matchedDbVersion,
      upload: upload.matchedDbVersion,
    }).toEqual({
      first: [scan.dbVersion, 'db-v2'],
      tooLong: 'CP_INVALID_ARGUMENT',
      unsaid: null,
      queued: null,
      upload: 'cli-db',
    });
  });
});

describe('completion summary', () => {
  it('writes the summary on every image of the digest in the org, and only there; a summary-less completion clears it', async () => {
    const shared = digest('shared');
    const mine = (await stores.images.upsertImage(org, { repository: 'one', digest: shared })).image;
    const mirror = (await stores.images.upsertImage(org, { repository: 'mirror/one', digest: shared })).image;
    const otherOrg = (await stores.orgs.createOrg({ slug: 'lifecycle-b', name: 'B' })).id;
    const foreign = (await stores.images.upsertImage(otherOrg, { repository: 'one', digest: shared })).image;
    const scan = await queued(mine);
    const running = await stores.scans.transitionScan(org, scan.id, { to: 'running', attempt: 1 });
    const summary = {
      counts: { critical: 2, high: 1, medium: 0, low: 0, unknown: 3, total: 6 },
      fixable: 4,
      packages: 120,
      os: { family: 'debian', version: '12' },
    };
    await stores.scans.transitionScan(org, scan.id, { to: 'completed', attempt: running.attempt, summary });
    const images = await stores.images.getImages(org, [mirror.id, mine.id, foreign.id]);
    const bare = await queued(mine);
    await stores.scans.transitionScan(org, bare.id, { to: 'running' });
    await stores.scans.transitionScan(org, bare.id, { to: 'completed', attempt: 1 });
    const bad = await outcome(
      stores.scans.transitionScan(
        org,
        (await stores.scans.transitionScan(org, (await queued(mine)).id, { to: 'running' })).id,
        {
          to: 'completed',
          attempt: 1,
          summary: { ...summary, fixable: -1 },
        },
      ),
    );
    expect({
      images: images.map((i) => ({ id: i.id, summary: i.summary && { ...i.summary, completedAt: null } })),
      ids: await stores.images.imageIdsByDigest(org, shared),
      foreign: (await stores.images.getImage(otherOrg, foreign.id))?.summary,
      cleared: (await stores.images.getImage(org, mine.id))?.summary,
      bad,
    }).toEqual({
      images: [mirror, mine].map((i) => ({
        id: i.id,
        summary: { imageId: i.id, scanId: scan.id, attempt: 1, completedAt: null, ...summary },
      })),
      ids: [mine.id, mirror.id].sort(),
      foreign: null,
      cleared: null,
      bad: 'CP_INVALID_ARGUMENT',
    });
  });
});

describe('uploads and the outbox', () => {
  it('records uploads as running attempt-1 scans outside the one-active guard and the outbox', async () => {
    const active = await queued();
    const upload = await stores.scans.createScan(org, {
      imageId: image.id,
      dbVersion: active.dbVersion,
      priority: 'ci',
      upload: true,
    });
    const outbox = await stores.outbox.listUnpublished({ limit: 1000 });
    expect({
      upload: [upload.created, upload.scan.status, upload.scan.attempt, upload.scan.id !== active.id],
      inOutbox: outbox.some((s) => s.id === upload.scan.id),
      activeInOutbox: outbox.some((s) => s.id === active.id),
    }).toEqual({ upload: [true, 'running', 1, true], inOutbox: false, activeInOutbox: true });
  });

  it('lists unpublished queued scans by priority then age, honours the grace cut-off, and forgets marked ones', async () => {
    const fresh = (await stores.orgs.createOrg({ slug: 'outbox', name: 'Outbox' })).id;
    const img = (
      await stores.images.upsertImage(fresh, { repository: 'reg.test/box', digest: digest('box') })
    ).image;
    const make = async (priority: 'manual' | 'ci' | 'scheduled', dbVersion: string) =>
      (await stores.scans.createScan(fresh, { imageId: img.id, dbVersion, priority })).scan;
    const scheduled = await make('scheduled', 'a');
    const manual = await make('manual', 'b');
    const ci = await make('ci', 'c');
    const mine = async (options: Parameters<MetadataStores['outbox']['listUnpublished']>[0]) =>
      (await stores.outbox.listUnpublished(options)).filter((s) => s.orgId === fresh).map((s) => s.id);
    const ordered = await mine({ limit: 1000 });
    const graced = await mine({ limit: 1000, createdBefore: new Date(Date.now() - 60_000) });
    const marked = await stores.outbox.markPublished([manual.id, manual.id, ci.id]);
    const again = await stores.outbox.markPublished([manual.id]);
    const [row] = (await stores.outbox.listUnpublished({ limit: 1000 })).filter((s) => s.orgId === fresh);
    expect({
      ordered,
      graced,
      marked,
      again,
      row: row && { ...row, createdAt: row.createdAt instanceof Date },
      found: (await stores.outbox.findScan(scheduled.id))?.orgId,
      notUuid: await stores.outbox.findScan('nope'),
    }).toEqual({
      ordered: [manual.id, ci.id, scheduled.id],
      graced: [],
      marked: 2,
      again: 0,
      row: {
        id: scheduled.id,
        orgId: fresh,
        imageId: img.id,
        digest: digest('box'),
        priority: 'scheduled',
        dbVersion: 'a',
        attempt: 0,
        repository: 'reg.test/box',
        createdAt: true,
      },
      found: fresh,
      notUuid: null,
    });
  });
});
