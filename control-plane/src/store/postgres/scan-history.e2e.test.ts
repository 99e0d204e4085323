import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetadataStores, ScanRecord, ScanStatus } from '../../services/types.js';
import { pgStores } from './index.js';
import type { SqlDatabase } from './sql.js';
import { createMigratedDatabase, type ScratchDatabase } from './testdata/scratch-database.js';

let scratch: ScratchDatabase;
let db: SqlDatabase;
let stores: MetadataStores;
let org: string;
let otherOrg: string;

const digest = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;

beforeAll(async () => {
  ({ scratch, db } = await createMigratedDatabase());
  stores = pgStores(db);
  org = (await stores.orgs.createOrg({ slug: 'history', name: 'History' })).id;
  otherOrg = (await stores.orgs.createOrg({ slug: 'history-other', name: 'Other' })).id;
});
afterAll(() => scratch?.drop());

let versions = 0;
/** A scan of `repository@digest(label)` in `orgId`, taken to `status`. */
async function scanOf(
  orgId: string,
  repository: string,
  label: string,
  status: ScanStatus,
): Promise<ScanRecord> {
  const { image } = await stores.images.upsertImage(orgId, { repository, digest: digest(label) });
  const { scan } = await stores.scans.createScan(orgId, {
    imageId: image.id,
    dbVersion: `db-${++versions}`,
    priority: 'ci',
  });
  if (status === 'queued') return scan;
  const running = await stores.scans.transitionScan(orgId, scan.id, { to: 'running' });
  if (status === 'running') return running;
  if (status === 'failed') {
    return stores.scans.transitionScan(orgId, scan.id, {
      to: 'failed',
      attempt: running.attempt,
      error: { code: 'ENG_REGISTRY_NOT_FOUND', message: 'gone' },
    });
  }
  return stores.scans.transitionScan(orgId, scan.id, { to: 'completed', attempt: running.attempt });
}

const previousOf = async (orgId: string, scan: ScanRecord) =>
  (await stores.scans.previousCompletedScan(orgId, scan.id))?.id ?? null;

describe('previousCompletedScan', () => {
  it("is the digest's completed scan that finished last before this one, whatever image or status came between", async () => {
    const first = await scanOf(org, 'app', 'app-1', 'completed');
    await scanOf(org, 'app', 'app-1', 'failed');
    // another repository's image of the same content: one scan serves both, so it is the same history
    const second = await scanOf(org, 'mirror/app', 'app-1', 'completed');
    const otherDigest = await scanOf(org, 'app', 'app-2', 'completed');
    const third = await scanOf(org, 'app', 'app-1', 'completed');
    const queued = await scanOf(org, 'app', 'app-1', 'queued');
    // the same digest in another organisation is not part of this one's history
    const foreign = await scanOf(otherOrg, 'app', 'app-1', 'completed');
    expect({
      first: await previousOf(org, first),
      second: await previousOf(org, second),
      third: await previousOf(org, third),
      otherDigest: await previousOf(org, otherDigest),
      queued: await previousOf(org, queued),
      foreign: await previousOf(otherOrg, foreign),
      foreignAsked: await previousOf(otherOrg, third),
      unknown: await stores.scans.previousCompletedScan(org, '6f1c2a3b-0000-4000-8000-000000000000'),
    }).toEqual({
      first: null,
      second: first.id,
      third: second.id,
      otherDigest: null,
      queued: null,
      foreign: null,
      foreignAsked: null,
      unknown: null,
    });
  });

  it('breaks ties of the completion time by id, so every scan has one predecessor', async () => {
    const a = await scanOf(org, 'tie', 'tie-1', 'completed');
    const b = await scanOf(org, 'tie', 'tie-1', 'completed');
    await db.query('UPDATE scans SET finished_at = $1 WHERE id = ANY ($2::uuid[])', [
      new Date('2026-01-01T00:00:00Z'),
      [a.id, b.id],
    ]);
    const [low, high] = [a, b].sort((x, y) => (x.id < y.id ? -1 : 1)) as [ScanRecord, ScanRecord];
    expect({ low: await previousOf(org, low), high: await previousOf(org, high) }).toEqual({
      low: null,
      high: low.id,
    });
  });
});
