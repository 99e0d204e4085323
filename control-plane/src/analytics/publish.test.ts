import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublishScan } from './types.js';
import { openTestStore, sampleRows, type TestStore } from './testdata/fixtures.js';

let t: TestStore;
beforeAll(async () => {
  t = await openTestStore();
});
afterAll(async () => {
  await t.dispose();
});

const ZERO = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0, total: 0 };
const { openssl, zlib, critical, high, medium, low } = sampleRows();

function publish(scanId: string, attempt: number, imageIds: string[], completedAt: string): PublishScan {
  return {
    scanId,
    attempt,
    digest: `sha256:${scanId}`,
    imageIds,
    completedAt: new Date(completedAt),
    os: { family: 'debian', version: '12.5' },
  };
}

/** Everything every read shows of one image of an org. */
async function visible(org: string, imageId: string, vulnerabilityId = critical.id) {
  const s = t.store;
  return {
    summaries: await s.imageSummaries(org, [imageId]),
    summary: await s.summary(org),
    findings: await s.imageFindings(org, imageId),
    vulnerable: await s.vulnerableImages(org, vulnerabilityId),
  };
}

describe('visibility', () => {
  it('rows of an attempt never published show nowhere', async () => {
    await t.store.appendInventory('org-v1', 'scan-1', 1, [openssl, zlib]);
    await t.store.appendFindings('org-v1', 'scan-1', 1, [critical, high]);
    expect(await visible('org-v1', 'img-1')).toEqual({
      summaries: new Map(),
      summary: { images: 0, counts: ZERO, fixable: 0 },
      findings: { findings: [], nextCursor: null },
      vulnerable: { images: [], nextCursor: null },
    });
  });

  it('a retried attempt after a half-written one: only the published attempt counts, once', async () => {
    const org = 'org-v2';
    // attempt 1 dies after one inventory chunk and one findings chunk
    await t.store.appendInventory(org, 'scan-1', 1, [openssl]);
    await t.store.appendFindings(org, 'scan-1', 1, [critical, high]);
    // attempt 2 writes everything, in chunks
    await t.store.appendInventory(org, 'scan-1', 2, [openssl]);
    await t.store.appendInventory(org, 'scan-1', 2, [zlib]);
    await t.store.appendFindings(org, 'scan-1', 2, [critical, high]);
    await t.store.appendFindings(org, 'scan-1', 2, [medium, low]);
    const summary = await t.store.publishScan(
      org,
      publish('scan-1', 2, ['img-1'], '2025-03-01T10:00:00.000Z'),
    );

    const expected = {
      scanId: 'scan-1',
      attempt: 2,
      completedAt: new Date('2025-03-01T10:00:00.000Z'),
      os: { family: 'debian', version: '12.5' },
      counts: { critical: 1, high: 1, medium: 1, low: 1, unknown: 0, total: 4 },
      fixable: 2,
      packages: 2,
    };
    expect(summary).toEqual(expected);
    expect(await visible(org, 'img-1')).toEqual({
      summaries: new Map([['img-1', { imageId: 'img-1', ...expected }]]),
      summary: { images: 1, counts: expected.counts, fixable: 2 },
      findings: { findings: [critical, high, medium, low], nextCursor: null },
      vulnerable: { images: [{ imageId: 'img-1', findings: [critical] }], nextCursor: null },
    });
  });

  it('publishing the same attempt again changes nothing; a chunk appended twice counts once', async () => {
    const org = 'org-v3';
    await t.store.appendInventory(org, 'scan-1', 1, [openssl, zlib]);
    await t.store.appendInventory(org, 'scan-1', 1, [zlib]);
    await t.store.appendFindings(org, 'scan-1', 1, [critical, medium]);
    await t.store.appendFindings(org, 'scan-1', 1, [critical, medium]);
    const scan = publish('scan-1', 1, ['img-1'], '2025-03-01T10:00:00.000Z');
    const first = await t.store.publishScan(org, scan);
    const before = await visible(org, 'img-1');
    const again = await t.store.publishScan(org, scan);
    expect({ again, after: await visible(org, 'img-1') }).toEqual({ again: first, after: before });
    expect(before.summary).toEqual({
      images: 1,
      counts: { critical: 1, high: 0, medium: 1, low: 0, unknown: 0, total: 2 },
      fixable: 2,
    });
    expect(before.findings.findings).toEqual([critical, medium]);
    expect(first.packages).toBe(2);
  });
});

describe('latest completed scan per image', () => {
  it('a newer scan replaces the older one: fixed vulnerabilities leave the counts', async () => {
    const org = 'org-l1';
    await t.store.appendFindings(org, 'scan-old', 1, [critical, high, medium]);
    await t.store.publishScan(org, publish('scan-old', 1, ['img-1'], '2025-03-01T10:00:00.000Z'));
    // openssl upgraded: the critical and the high are fixed
    await t.store.appendFindings(org, 'scan-new', 1, [medium]);
    await t.store.publishScan(org, publish('scan-new', 1, ['img-1'], '2025-03-02T10:00:00.000Z'));

    const latest = await visible(org, 'img-1');
    expect(latest).toEqual({
      summaries: new Map([
        [
          'img-1',
          {
            imageId: 'img-1',
            scanId: 'scan-new',
            attempt: 1,
            completedAt: new Date('2025-03-02T10:00:00.000Z'),
            os: { family: 'debian', version: '12.5' },
            counts: { critical: 0, high: 0, medium: 1, low: 0, unknown: 0, total: 1 },
            fixable: 1,
            packages: 0,
          },
        ],
      ]),
      summary: {
        images: 1,
        counts: { critical: 0, high: 0, medium: 1, low: 0, unknown: 0, total: 1 },
        fixable: 1,
      },
      findings: { findings: [medium], nextCursor: null },
      vulnerable: { images: [], nextCursor: null },
    });
  });

  it('an older completion published late does not replace a newer one', async () => {
    const org = 'org-l2';
    await t.store.appendFindings(org, 'scan-new', 1, [low]);
    await t.store.appendFindings(org, 'scan-old', 1, [critical, high]);
    await t.store.publishScan(org, publish('scan-new', 1, ['img-1'], '2025-03-02T10:00:00.000Z'));
    const late = await t.store.publishScan(
      org,
      publish('scan-old', 1, ['img-1'], '2025-03-01T10:00:00.000Z'),
    );
    const summaries = await t.store.imageSummaries(org, ['img-1']);
    expect({
      late: late.counts,
      latest: [summaries.get('img-1')?.scanId, summaries.get('img-1')?.counts],
      findings: (await t.store.imageFindings(org, 'img-1')).findings,
    }).toEqual({
      late: { critical: 1, high: 1, medium: 0, low: 0, unknown: 0, total: 2 },
      latest: ['scan-new', { critical: 0, high: 0, medium: 0, low: 1, unknown: 0, total: 1 }],
      findings: [low],
    });
  });

  it('one scan of a digest becomes the latest of every image with that digest', async () => {
    const org = 'org-l3';
    await t.store.appendFindings(org, 'scan-1', 1, [critical, low]);
    await t.store.publishScan(org, publish('scan-1', 1, ['img-a', 'img-b'], '2025-03-01T10:00:00.000Z'));
    const summaries = await t.store.imageSummaries(org, ['img-a', 'img-b', 'img-never-scanned']);
    expect({
      ids: [...summaries.keys()].sort(),
      scans: [...summaries.values()].map((s) => s.scanId),
      summary: await t.store.summary(org),
      onlyA: await t.store.summary(org, { imageIds: ['img-a'] }),
      none: await t.store.summary(org, { imageIds: [] }),
      vulnerable: await t.store.vulnerableImages(org, critical.id),
    }).toEqual({
      ids: ['img-a', 'img-b'],
      scans: ['scan-1', 'scan-1'],
      summary: {
        images: 2,
        counts: { critical: 2, high: 0, medium: 0, low: 2, unknown: 0, total: 4 },
        fixable: 2,
      },
      onlyA: {
        images: 1,
        counts: { critical: 1, high: 0, medium: 0, low: 1, unknown: 0, total: 2 },
        fixable: 1,
      },
      none: { images: 0, counts: ZERO, fixable: 0 },
      vulnerable: {
        images: [
          { imageId: 'img-a', findings: [critical] },
          { imageId: 'img-b', findings: [critical] },
        ],
        nextCursor: null,
      },
    });
  });
});

describe('pruneUnpublished', () => {
  it('deletes the rows of attempts never published, keeps published ones', async () => {
    const org = 'org-p1';
    await t.store.appendInventory(org, 'scan-1', 1, [openssl]);
    await t.store.appendFindings(org, 'scan-1', 1, [critical]); // abandoned attempt
    await t.store.appendInventory(org, 'scan-1', 2, [openssl]);
    await t.store.appendFindings(org, 'scan-1', 2, [critical]);
    await t.store.publishScan(org, publish('scan-1', 2, ['img-1'], '2025-03-01T10:00:00.000Z'));
    await t.store.appendFindings(org, 'scan-2', 1, [high]); // still streaming, or abandoned

    const rowsOf = async () =>
      t.store.driver.query(
        `SELECT * FROM (
           SELECT 'findings' AS t, scan_id, attempt, toUInt32(count()) AS n FROM findings WHERE org_id = {org:String} GROUP BY scan_id, attempt
           UNION ALL SELECT 'packages', scan_id, attempt, toUInt32(count()) FROM packages WHERE org_id = {org:String} GROUP BY scan_id, attempt
           UNION ALL SELECT 'ids', scan_id, attempt, toUInt32(count()) FROM finding_ids WHERE org_id = {org:String} GROUP BY scan_id, attempt
         ) ORDER BY t, scan_id, attempt`,
        { org },
      );
    const notYet = await t.store.pruneUnpublished(new Date(Date.now() - 3_600_000));
    const before = await rowsOf();
    const pruned = await t.store.pruneUnpublished(new Date(Date.now() + 60_000));
    expect({ notYet, before: before.length, pruned, after: await rowsOf() }).toEqual({
      notYet: 0,
      before: 8,
      // pruning spans every org: the abandoned attempts of this file's earlier tests go too (org-v1 scan-1/1,
      // org-v2 scan-1/1), with org-p1's scan-1/1 and scan-2/1
      pruned: 4,
      after: [
        { t: 'findings', scan_id: 'scan-1', attempt: 2, n: 1 },
        { t: 'ids', scan_id: 'scan-1', attempt: 2, n: 2 }, // the CVE and its GHSA alias
        { t: 'packages', scan_id: 'scan-1', attempt: 2, n: 1 },
      ],
    });
    expect((await t.store.imageFindings(org, 'img-1')).findings).toEqual([critical]);
  });
});
