/**
 * The scan store additions of 0004 for the stale-scan reaper: `active_at` set by claims and report starts and
 * refreshed by recordActivity, listIdle (running scans idle since a time, never uploads), and the re-queue of an
 * idle attempt (guarded by attempt and idleness, back into the outbox with its attempt count kept).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
  org = (await stores.orgs.createOrg({ slug: 'activity', name: 'Activity' })).id;
  image = (await stores.images.upsertImage(org, { repository: 'app', digest: digest('app') })).image;
});
afterAll(() => scratch?.drop());

let versions = 0;
/** A scan claimed at `attempt`. */
async function running(attempt: number): Promise<ScanRecord> {
  const { scan } = await stores.scans.createScan(org, {
    imageId: image.id,
    dbVersion: `v${++versions}`,
    priority: 'ci',
  });
  return stores.scans.transitionScan(org, scan.id, { to: 'running', attempt });
}

/** Moves a scan's last activity `minutes` into the past. */
const idleFor = (scanId: string, minutes: number) =>
  db.query(`UPDATE scans SET active_at = now() - make_interval(mins => $2) WHERE id = $1`, [scanId, minutes]);

const outcome = (p: Promise<ScanRecord>): Promise<string> =>
  p.then(
    (s) => `${s.status}#${s.attempt}`,
    (e: { code: string }) => e.code,
  );

const tenMinutesAgo = (): Date => new Date(Date.now() - 10 * 60_000);

it('lists running scans idle since a time, longest idle first; activity and report starts take them off', async () => {
  const [quiet, quieter, refreshed, reporting, fresh] = await Promise.all([1, 2, 3, 4, 5].map(running));
  const upload = (
    await stores.scans.createScan(org, {
      imageId: image.id,
      dbVersion: 'upload',
      priority: 'ci',
      upload: true,
    })
  ).scan;
  await db.query(
    `UPDATE scans SET updated_at = now() - interval '1 hour', started_at = now() - interval '1 hour' WHERE id = $1`,
    [upload.id],
  );
  for (const [scan, minutes] of [
    [quiet, 20],
    [quieter, 30],
    [refreshed, 20],
    [reporting, 20],
    [fresh, 1],
  ] as const)
    await idleFor(scan.id, minutes);
  const activity = [
    await stores.outbox.recordActivity(refreshed.id, 3),
    await stores.outbox.recordActivity(refreshed.id, 2),
    await stores.outbox.recordActivity('not-a-uuid', 1),
  ];
  await stores.scans.startReport(org, reporting.id, 4);
  const idle = await stores.outbox.listIdle({ idleBefore: tenMinutesAgo(), limit: 100 });
  expect({ activity, idle: idle.map((s) => s.id) }).toEqual({
    activity: [true, false, false],
    idle: [quieter.id, quiet.id],
  });
});

it('re-queues only the idle current attempt, into the outbox with its attempt kept; a claim then goes forward', async () => {
  const idle = await running(3);
  await db.query(`UPDATE scans SET published_at = now() WHERE id = $1`, [idle.id]);
  const active = await running(2);
  await idleFor(idle.id, 20);
  const requeue = (scan: ScanRecord, attempt: number) =>
    outcome(
      stores.scans.transitionScan(org, scan.id, { to: 'queued', attempt, idleBefore: tenMinutesAgo() }),
    );
  const steps = {
    stale: await requeue(idle, 2),
    active: await requeue(active, 2),
    idle: await requeue(idle, 3),
    again: await requeue(idle, 3),
    noDate: await outcome(
      stores.scans.transitionScan(org, idle.id, {
        to: 'queued',
        attempt: 3,
        idleBefore: new Date(Number.NaN),
      }),
    ),
  };
  const outbox = (await stores.outbox.listUnpublished({ limit: 1000 })).find((s) => s.id === idle.id);
  const oldCopy = await outcome(stores.scans.transitionScan(org, idle.id, { to: 'running', attempt: 1 }));
  const newCopy = await outcome(stores.scans.transitionScan(org, idle.id, { to: 'running', attempt: 4 }));
  expect({ steps, outbox: outbox && { attempt: outbox.attempt }, oldCopy, newCopy }).toEqual({
    steps: {
      stale: 'CP_SCAN_ATTEMPT_STALE',
      active: 'CP_SCAN_TRANSITION_INVALID',
      idle: 'queued#3',
      again: 'CP_SCAN_TRANSITION_INVALID',
      noDate: 'CP_INVALID_ARGUMENT',
    },
    outbox: { attempt: 3 },
    oldCopy: 'CP_SCAN_ATTEMPT_STALE',
    newCopy: 'running#4',
  });
});
