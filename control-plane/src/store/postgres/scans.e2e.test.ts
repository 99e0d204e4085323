import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRecord, MetadataStores, ScanRecord, ScanStatus } from '../../services/types.js';
import { pgStores } from './index.js';
import { pgScanStore } from './scans.js';
import type { SqlDatabase } from './sql.js';
import { recordingDatabase } from './testdata/recording-database.js';
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
  org = (await stores.orgs.createOrg({ slug: 'scans', name: 'Scans' })).id;
  image = (await stores.images.upsertImage(org, { repository: 'app', digest: digest('app'), tags: ['1.0'] }))
    .image;
});
afterAll(() => scratch?.drop());

let versionCount = 0;
/** A scan in the given status, on a DB version of its own so the one-active guard never interferes. */
async function scanIn(status: ScanStatus): Promise<ScanRecord> {
  const { scan } = await stores.scans.createScan(org, {
    imageId: image.id,
    dbVersion: `state-${++versionCount}`,
    priority: 'ci',
  });
  if (status === 'queued') return scan;
  if (status === 'cancelled') return (await stores.scans.cancelScan(org, scan.id)).scan;
  const running = await stores.scans.transitionScan(org, scan.id, { to: 'running' });
  if (status === 'running') return running;
  if (status === 'completed')
    return stores.scans.transitionScan(org, scan.id, { to: 'completed', attempt: running.attempt });
  return stores.scans.transitionScan(org, scan.id, {
    to: 'failed',
    attempt: running.attempt,
    error: { code: 'ENG_LAYER_CORRUPT', message: 'bad' },
  });
}

describe('scan state machine', () => {
  const ops = ['running', 'completed', 'failed', 'cancel'] as const;
  // queued → running → completed | failed; queued | running → cancelled; finished scans never change;
  // running → running is a redelivered job starting attempt n+1; cancelling a cancelled scan is a no-op.
  const expected: Record<ScanStatus, Record<(typeof ops)[number], string>> = {
    queued: {
      running: 'running#1',
      completed: 'CP_SCAN_TRANSITION_INVALID',
      failed: 'CP_SCAN_TRANSITION_INVALID',
      cancel: 'cancelled#0',
    },
    running: { running: 'running#2', completed: 'completed#1', failed: 'failed#1', cancel: 'cancelled#1' },
    completed: {
      running: 'CP_SCAN_TRANSITION_INVALID',
      completed: 'CP_SCAN_TRANSITION_INVALID',
      failed: 'CP_SCAN_TRANSITION_INVALID',
      cancel: 'CP_SCAN_TRANSITION_INVALID',
    },
    failed: {
      running: 'CP_SCAN_TRANSITION_INVALID',
      completed: 'CP_SCAN_TRANSITION_INVALID',
      failed: 'CP_SCAN_TRANSITION_INVALID',
      cancel: 'CP_SCAN_TRANSITION_INVALID',
    },
    cancelled: {
      running: 'CP_SCAN_TRANSITION_INVALID',
      completed: 'CP_SCAN_TRANSITION_INVALID',
      failed: 'CP_SCAN_TRANSITION_INVALID',
      cancel: 'cancelled#0',
    },
  };

  it('allows exactly the legal transitions and rejects the rest with CP_SCAN_TRANSITION_INVALID', async () => {
    const actual: Record<string, Record<string, string>> = {};
    for (const from of Object.keys(expected) as ScanStatus[]) {
      actual[from] = {};
      for (const op of ops) {
        const scan = await scanIn(from);
        const run = async (): Promise<ScanRecord> => {
          if (op === 'cancel') return (await stores.scans.cancelScan(org, scan.id)).scan;
          if (op === 'running') return stores.scans.transitionScan(org, scan.id, { to: 'running' });
          if (op === 'completed')
            return stores.scans.transitionScan(org, scan.id, { to: 'completed', attempt: scan.attempt });
          return stores.scans.transitionScan(org, scan.id, {
            to: 'failed',
            attempt: scan.attempt,
            error: { code: 'WORKER_LOST', message: 'gone' },
          });
        };
        actual[from][op] = await run().then(
          (s) => `${s.status}#${s.attempt}`,
          (e: { code: string }) => e.code,
        );
        const after = await stores.scans.getScan(org, scan.id);
        // a refused transition leaves the scan as it was
        if (actual[from][op]!.startsWith('CP_')) expect(after).toEqual(scan);
      }
    }
    expect(actual).toEqual(expected);
  });

  it('records timestamps and the error of a failed scan', async () => {
    const failed = await scanIn('failed');
    const completed = await scanIn('completed');
    expect({
      failed: {
        error: failed.error,
        started: failed.startedAt !== null,
        finished: failed.finishedAt !== null,
      },
      completed: {
        error: completed.error,
        started: completed.startedAt !== null,
        finished: completed.finishedAt !== null,
      },
    }).toEqual({
      failed: { error: { code: 'ENG_LAYER_CORRUPT', message: 'bad' }, started: true, finished: true },
      completed: { error: null, started: true, finished: true },
    });
  });

  it('accepts results only from the current attempt (a redelivered job supersedes the old worker)', async () => {
    const scan = await scanIn('queued');
    const first = await stores.scans.transitionScan(org, scan.id, { to: 'running' });
    const second = await stores.scans.transitionScan(org, scan.id, { to: 'running' });
    const stale = await stores.scans
      .transitionScan(org, scan.id, { to: 'completed', attempt: first.attempt })
      .catch((e: Error) => e);
    const done = await stores.scans.transitionScan(org, scan.id, {
      to: 'completed',
      attempt: second.attempt,
    });
    expect({
      attempts: [first.attempt, second.attempt],
      stale: [(stale as { code: string }).code, stale.message],
      done: done.status,
    }).toEqual({
      attempts: [1, 2],
      stale: ['CP_SCAN_ATTEMPT_STALE', `attempt 1 of scan ${scan.id} is stale: the current attempt is 2`],
      done: 'completed',
    });
  });

  it.each([
    [{ to: 'failed', error: { code: 'lower', message: 'x' } }],
    [{ to: 'failed' }],
    [{ to: 'completed' }],
    [{ to: 'completed', attempt: 1.5 }],
    [{ to: 'queued' }],
  ])('refuses the malformed transition %j', async (transition) => {
    const scan = await scanIn('running');
    await expect(stores.scans.transitionScan(org, scan.id, transition as never)).rejects.toMatchObject({
      code: 'CP_INVALID_ARGUMENT',
    });
  });
});

describe('createScan', () => {
  it('keeps one active scan per digest and DB version, raising its priority; force and new versions add scans', async () => {
    const img = (await stores.images.upsertImage(org, { repository: 'idem', digest: digest('idem') })).image;
    const twin = (await stores.images.upsertImage(org, { repository: 'idem-mirror', digest: digest('idem') }))
      .image;
    const create = (input: Partial<Parameters<MetadataStores['scans']['createScan']>[1]>) =>
      stores.scans.createScan(org, { imageId: img.id, dbVersion: 'v1', priority: 'scheduled', ...input });
    const first = await create({});
    const manual = await create({ priority: 'manual' });
    const ci = await create({ priority: 'ci' });
    const viaTwin = await create({ imageId: twin.id, priority: 'ci' });
    const otherVersion = await create({ dbVersion: 'v2' });
    const forced = await create({ force: true });
    const forcedAgain = await create({ force: true });
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => create({ dbVersion: 'v3' })));
    const summary = (r: { scan: ScanRecord; created: boolean }) => ({
      same: r.scan.id === first.scan.id,
      created: r.created,
      priority: r.scan.priority,
    });
    expect({
      first: summary(first),
      manual: summary(manual),
      ci: summary(ci),
      viaTwin: { ...summary(viaTwin), imageId: viaTwin.scan.imageId === img.id },
      otherVersion: summary(otherVersion),
      forced: [
        summary(forced),
        summary(forcedAgain),
        forced.scan.id === forcedAgain.scan.id,
        forced.scan.forced,
      ],
      concurrent: {
        created: concurrent.filter((r) => r.created).length,
        ids: new Set(concurrent.map((r) => r.scan.id)).size,
      },
      lastScan: [
        (await stores.images.getImage(org, img.id))?.lastScanId,
        (await stores.images.getImage(org, twin.id))?.lastScanId,
      ],
    }).toEqual({
      first: { same: true, created: true, priority: 'scheduled' },
      manual: { same: true, created: false, priority: 'manual' },
      ci: { same: true, created: false, priority: 'manual' },
      viaTwin: { same: true, created: false, priority: 'manual', imageId: true },
      otherVersion: { same: false, created: true, priority: 'scheduled' },
      forced: [
        { same: false, created: true, priority: 'scheduled' },
        { same: false, created: true, priority: 'scheduled' },
        false,
        true,
      ],
      concurrent: { created: 1, ids: 1 },
      // the newest scan created for the digest, shared by both images
      lastScan: [concurrent.find((r) => r.created)!.scan.id, concurrent.find((r) => r.created)!.scan.id],
    });
  });

  it('allows a new scan once the active one finished, and completion updates every image of the digest', async () => {
    const img = (await stores.images.upsertImage(org, { repository: 'again', digest: digest('again') }))
      .image;
    const twin = (
      await stores.images.upsertImage(org, { repository: 'again-mirror', digest: digest('again') })
    ).image;
    const { scan } = await stores.scans.createScan(org, { imageId: img.id, dbVersion: 'v1', priority: 'ci' });
    const running = await stores.scans.transitionScan(org, scan.id, { to: 'running' });
    const done = await stores.scans.transitionScan(org, scan.id, {
      to: 'completed',
      attempt: running.attempt,
    });
    const next = await stores.scans.createScan(org, { imageId: twin.id, dbVersion: 'v1', priority: 'ci' });
    const latest = async (id: string) => {
      const i = (await stores.images.getImage(org, id))!;
      return [i.lastScanId, i.lastCompletedScanId, i.lastCompletedAt?.getTime()];
    };
    expect({ created: next.created, img: await latest(img.id), twin: await latest(twin.id) }).toEqual({
      created: true,
      img: [next.scan.id, scan.id, done.finishedAt!.getTime()],
      twin: [next.scan.id, scan.id, done.finishedAt!.getTime()],
    });
  });

  it.each([
    [{ imageId: '00000000-0000-4000-8000-000000000000', dbVersion: 'v1', priority: 'ci' }, 'CP_NOT_FOUND'],
    [{ imageId: 'nope', dbVersion: 'v1', priority: 'ci' }, 'CP_INVALID_ARGUMENT'],
    [{ dbVersion: 'v1', priority: 'urgent' }, 'CP_INVALID_ARGUMENT'],
    [{ dbVersion: '', priority: 'ci' }, 'CP_INVALID_ARGUMENT'],
  ])('refuses %j with %s', async (input, code) => {
    await expect(
      stores.scans.createScan(org, { imageId: image.id, ...input } as never),
    ).rejects.toMatchObject({ code });
  });

  it('answers CP_NOT_FOUND for transitions and cancels of unknown scans', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const codes = await Promise.all([
      stores.scans.transitionScan(org, unknown, { to: 'running' }).catch((e: { code: string }) => e.code),
      stores.scans.cancelScan(org, unknown).catch((e: { code: string }) => e.code),
      stores.scans.getScan(org, unknown),
    ]);
    expect(codes).toEqual(['CP_NOT_FOUND', 'CP_NOT_FOUND', null]);
  });
});

describe('getScan', () => {
  it('reads the scans asked for in one turn with one statement per organisation, each scoped to its own', async () => {
    const other = (await stores.orgs.createOrg({ slug: 'scans-other', name: 'Other' })).id;
    const [queued, completed] = [await scanIn('queued'), await scanIn('completed')];
    const recorded = recordingDatabase(db);
    const { statements } = recorded;
    const scans = pgScanStore(recorded.db);
    const burst = await Promise.all([
      scans.getScan(org, queued.id),
      scans.getScan(other, completed.id), // another organisation's scan: not found
      scans.getScan(org, completed.id),
      scans.getScan(org, queued.id),
    ]);
    const upperCase = await scans.getScan(org, completed.id.toUpperCase()); // read by Postgres, alone
    expect({ burst, upperCase, statements }).toEqual({
      burst: [queued, null, completed, queued],
      upperCase: completed,
      statements: [
        'SELECT … FROM scans s WHERE s.org_id = $1 AND s.id = ANY ($2::uuid[])',
        'SELECT … FROM scans s WHERE s.org_id = $1 AND s.id = ANY ($2::uuid[])',
        'SELECT … FROM scans s WHERE s.org_id = $1 AND s.id = $2',
      ],
    });
  });
});
