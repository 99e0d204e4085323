/**
 * Content-addressed rows (storeAttemptRows, migrations 3 and 4): a rescan of an image digest whose inventory or findings
 * are identical to a published attempt's shows those rows instead of writing them again; everything readers see
 * is the same as if it had written its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptCounter } from './attempt-counts.js';
import { batchPublishes } from './publish-batching.js';
import { rowsDigest } from './rows.js';
import { ClickHouseAnalyticsStore } from './store.js';
import type { AttemptContents, AttemptRows, PublishScan } from './types.js';
import { finding, openTestStore, pkg, sampleRows, type TestStore } from './testdata/fixtures.js';

let t: TestStore;
beforeAll(async () => {
  t = await openTestStore();
});
afterAll(async () => {
  await t.dispose();
});

const { openssl, zlib, critical, high, medium, low } = sampleRows();
const DIGEST = 'sha256:aaaa';

/** Stores a whole report of `scanId` attempt 1 of `digest` and publishes it as the latest scan of `imageId`. */
async function scanOf(
  org: string,
  scanId: string,
  rows: Pick<AttemptRows, 'packages' | 'findings'>,
  { digest = DIGEST, imageId = 'img-1', completedAt = '2025-03-01T10:00:00.000Z' } = {},
) {
  const counter = new AttemptCounter();
  const contents = await t.store.storeAttemptRows(org, digest, { scanId, attempt: 1, ...rows, counter });
  const summary = await t.store.publishScan(org, {
    scanId,
    attempt: 1,
    digest,
    imageIds: [imageId],
    completedAt: new Date(completedAt),
    os: null,
    counted: counter.counts(),
    contents,
  });
  return { contents, summary };
}

/** Rows each attempt of the org wrote itself, per table. */
const rowsOf = (org: string) =>
  t.store.driver.query(
    `SELECT * FROM (
       SELECT 'findings' AS t, scan_id, toUInt32(count()) AS n FROM findings WHERE org_id = {org:String} GROUP BY scan_id
       UNION ALL SELECT 'packages', scan_id, toUInt32(count()) FROM packages WHERE org_id = {org:String} GROUP BY scan_id
     ) ORDER BY t, scan_id`,
    { org },
  );

/** What readers see of an image: its summary, its findings page, and the CVE lookup. */
async function visible(org: string, imageId: string) {
  const summary = (await t.store.imageSummaries(org, [imageId])).get(imageId);
  return {
    counts: summary?.counts,
    fixable: summary?.fixable,
    packages: summary?.packages,
    findings: (await t.store.imageFindings(org, imageId)).findings,
    vulnerable: (await t.store.vulnerableImages(org, 'ghsa-2222-3333-4444')).images,
  };
}

describe('storeAttemptRows', () => {
  it('a rescan with identical rows, in any order, writes none and shows the same; republishing keeps its holder', async () => {
    const org = 'org-reuse-1';
    const first = await scanOf(org, 'scan-1', {
      packages: [openssl, zlib],
      findings: [critical, high, medium],
    });
    const before = await visible(org, 'img-1');
    const second = await scanOf(
      org,
      'scan-2',
      { packages: [zlib, openssl], findings: [medium, critical, high] },
      { completedAt: '2025-03-02T10:00:00.000Z' },
    );
    // published again without its contents (a retried completion): still shows scan-1's rows
    const again = await t.store.publishScan(org, {
      scanId: 'scan-2',
      attempt: 1,
      digest: DIGEST,
      imageIds: ['img-1'],
      completedAt: new Date('2025-03-02T10:00:00.000Z'),
      os: null,
    });
    const pruned = await t.store.pruneUnpublished(new Date(Date.now() + 60_000));
    expect({
      first: first.contents,
      second: second.contents,
      sameDigests: second.contents.packages.digest === first.contents.packages.digest,
      latest: (await t.store.imageSummaries(org, ['img-1'])).get('img-1')?.scanId,
      summaries: { ...second.summary, scanId: 'scan-1', completedAt: first.summary.completedAt },
      again: again.counts,
      pruned,
      rows: await rowsOf(org),
      visible: await visible(org, 'img-1'),
    }).toEqual({
      first: {
        packages: {
          from: { scanId: 'scan-1', attempt: 1 },
          digest: expect.stringMatching(/^[0-9a-f]{64}$/),
          reused: false,
        },
        findings: {
          from: { scanId: 'scan-1', attempt: 1 },
          digest: expect.stringMatching(/^[0-9a-f]{64}$/),
          reused: false,
        },
      },
      second: {
        packages: {
          from: { scanId: 'scan-1', attempt: 1 },
          digest: first.contents.packages.digest,
          reused: true,
        },
        findings: {
          from: { scanId: 'scan-1', attempt: 1 },
          digest: first.contents.findings.digest,
          reused: true,
        },
      },
      sameDigests: true,
      latest: 'scan-2',
      summaries: first.summary,
      again: first.summary.counts,
      pruned: 0,
      rows: [
        { t: 'findings', scan_id: 'scan-1', n: 3 },
        { t: 'packages', scan_id: 'scan-1', n: 2 },
      ],
      visible: before,
    });
    expect(before.vulnerable).toEqual([{ imageId: 'img-1', findings: [critical] }]);
  });

  it('writes only the kind that changed, and counts what it shows', async () => {
    const org = 'org-reuse-2';
    const first = await scanOf(org, 'scan-1', { packages: [openssl, zlib], findings: [critical, medium] });
    // the same image under a newer database: the same inventory, other findings
    const second = await scanOf(
      org,
      'scan-2',
      { packages: [openssl, zlib], findings: [high, low] },
      { completedAt: '2025-03-02T10:00:00.000Z' },
    );
    expect({
      packages: second.contents.packages,
      findings: { from: second.contents.findings.from, reused: second.contents.findings.reused },
      counts: second.summary.counts,
      rows: await rowsOf(org),
      visible: await visible(org, 'img-1'),
    }).toEqual({
      packages: {
        from: { scanId: 'scan-1', attempt: 1 },
        digest: first.contents.packages.digest,
        reused: true,
      },
      findings: { from: { scanId: 'scan-2', attempt: 1 }, reused: false },
      counts: { critical: 0, high: 1, medium: 0, low: 1, unknown: 0, total: 2 },
      rows: [
        { t: 'findings', scan_id: 'scan-1', n: 2 },
        { t: 'findings', scan_id: 'scan-2', n: 2 },
        { t: 'packages', scan_id: 'scan-1', n: 2 },
      ],
      visible: {
        counts: { critical: 0, high: 1, medium: 0, low: 1, unknown: 0, total: 2 },
        fixable: 0,
        packages: 2,
        findings: [high, low],
        vulnerable: [],
      },
    });
  });

  it('reuses only rows published for the same image digest in the same org', async () => {
    const rows = { packages: [openssl], findings: [critical] };
    await scanOf('org-reuse-3', 'scan-1', rows);
    // not yet published: nothing to reuse
    const unpublished = await t.store.storeAttemptRows('org-reuse-3', 'sha256:bbbb', {
      scanId: 'scan-2',
      attempt: 1,
      ...rows,
    });
    const otherDigest = await scanOf('org-reuse-3', 'scan-3', rows, {
      digest: 'sha256:bbbb',
      imageId: 'img-2',
    });
    const otherOrg = await scanOf('org-reuse-4', 'scan-1', rows);
    expect({
      unpublished: [unpublished.packages.reused, unpublished.findings.reused],
      otherDigest: [otherDigest.contents.packages.reused, otherDigest.contents.findings.reused],
      otherOrg: [otherOrg.contents.packages.reused, otherOrg.contents.findings.reused],
      rows: await rowsOf('org-reuse-3'),
    }).toEqual({
      unpublished: [false, false],
      otherDigest: [false, false],
      otherOrg: [false, false],
      rows: [
        { t: 'findings', scan_id: 'scan-1', n: 1 },
        { t: 'findings', scan_id: 'scan-2', n: 1 },
        { t: 'findings', scan_id: 'scan-3', n: 1 },
        { t: 'packages', scan_id: 'scan-1', n: 1 },
        { t: 'packages', scan_id: 'scan-2', n: 1 },
        { t: 'packages', scan_id: 'scan-3', n: 1 },
      ],
    });
  });

  it("finds the rows through the digest's images: another image's latest scan of the same digest", async () => {
    const org = 'org-reuse-images';
    const a = { packages: [openssl], findings: [critical] };
    const b = { packages: [openssl, zlib], findings: [high] };
    // two images of one digest (two repositories), each with its own latest scan
    await scanOf(org, 'scan-1', a, { imageId: 'img-1', completedAt: '2025-03-01T10:00:00.000Z' });
    await scanOf(org, 'scan-2', b, { imageId: 'img-2', completedAt: '2025-03-02T10:00:00.000Z' });
    // img-2 goes back to the rows img-1 shows
    const back = await scanOf(org, 'scan-3', a, {
      imageId: 'img-2',
      completedAt: '2025-03-03T10:00:00.000Z',
    });
    expect({
      back: [back.contents.packages.from.scanId, back.contents.findings.from.scanId],
      rows: await rowsOf(org),
      visible: (await visible(org, 'img-2')).findings,
    }).toEqual({
      back: ['scan-1', 'scan-1'],
      rows: [
        { t: 'findings', scan_id: 'scan-1', n: 1 },
        { t: 'findings', scan_id: 'scan-2', n: 1 },
        { t: 'packages', scan_id: 'scan-1', n: 1 },
        { t: 'packages', scan_id: 'scan-2', n: 2 },
      ],
      visible: [critical],
    });
  });

  it('remembers what it published: an unchanged rescan runs no lookup, and another replica finds the same by its query', async () => {
    const org = 'org-reuse-remembered';
    const statements: string[] = [];
    const counting = {
      ...t.store.driver,
      query: (sql: string, params?: Record<string, unknown>) => {
        statements.push(
          /FROM image_latest\s+WHERE org_id = \{org:String\} AND digest/.test(sql) ? 'lookup' : 'other',
        );
        return t.store.driver.query(sql, params);
      },
    } as typeof t.store.driver;
    const replica = (): ClickHouseAnalyticsStore => new ClickHouseAnalyticsStore(counting);
    const store = replica();
    const rows = { packages: [openssl, zlib], findings: [critical] };
    const stored = async (on: ClickHouseAnalyticsStore, scanId: string, completedAt: string) => {
      const counter = new AttemptCounter();
      const contents = await on.storeAttemptRows(org, DIGEST, { scanId, attempt: 1, ...rows, counter });
      await on.publishScan(org, {
        scanId,
        attempt: 1,
        digest: DIGEST,
        imageIds: ['img-1'],
        completedAt: new Date(completedAt),
        os: null,
        counted: counter.counts(),
        contents,
      });
      const used = statements.splice(0);
      return { from: [contents.packages.from.scanId, contents.findings.from.scanId], lookups: used };
    };
    expect({
      first: await stored(store, 'scan-1', '2025-03-01T10:00:00.000Z'),
      remembered: await stored(store, 'scan-2', '2025-03-02T10:00:00.000Z'),
      otherReplica: await stored(replica(), 'scan-3', '2025-03-03T10:00:00.000Z'),
      rows: await rowsOf(org),
    }).toEqual({
      first: { from: ['scan-1', 'scan-1'], lookups: ['lookup'] },
      remembered: { from: ['scan-1', 'scan-1'], lookups: [] },
      otherReplica: { from: ['scan-1', 'scan-1'], lookups: ['lookup'] },
      rows: [
        { t: 'findings', scan_id: 'scan-1', n: 1 },
        { t: 'packages', scan_id: 'scan-1', n: 2 },
      ],
    });
  });

  it('through publish batching, concurrent reports insert together and each gets its own contents', async () => {
    const org = 'org-reuse-5';
    const store = batchPublishes(t.store);
    const results = await Promise.all(
      ['scan-1', 'scan-2', 'scan-3'].map((scanId, i) =>
        store.storeAttemptRows!(org, `sha256:${i}`, {
          scanId,
          attempt: 1,
          packages: [pkg(`p${i}`)],
          findings: [finding(`CVE-2024-100${i}`, 'HIGH', pkg(`p${i}`))],
        }),
      ),
    );
    expect({
      from: results.map((c) => [c.packages.from.scanId, c.findings.from.scanId, c.packages.reused]),
      rows: await rowsOf(org),
    }).toEqual({
      from: [
        ['scan-1', 'scan-1', false],
        ['scan-2', 'scan-2', false],
        ['scan-3', 'scan-3', false],
      ],
      rows: ['findings', 'packages'].flatMap((kind) =>
        ['scan-1', 'scan-2', 'scan-3'].map((scanId) => ({ t: kind, scan_id: scanId, n: 1 })),
      ),
    });
  });

  it('refuses a bad digest or bad contents, writing nothing', async () => {
    const org = 'org-reuse-6';
    const stored: AttemptContents = {
      packages: { from: { scanId: 'scan-1', attempt: 1 }, digest: 'not a digest', reused: false },
      findings: { from: { scanId: 'scan-1', attempt: 1 }, digest: 'f'.repeat(64), reused: false },
    };
    const publishing: PublishScan = {
      scanId: 'scan-1',
      attempt: 1,
      digest: DIGEST,
      imageIds: ['img-1'],
      completedAt: new Date(),
      os: null,
      contents: stored,
    };
    const errors = await Promise.all([
      t.store
        .storeAttemptRows(org, '', { scanId: 'scan-1', attempt: 1, packages: [openssl] })
        .catch((e) => e),
      t.store.storeAttemptRows(org, DIGEST, { scanId: '', attempt: 1, packages: [openssl] }).catch((e) => e),
      t.store.publishScan(org, publishing).catch((e) => e),
    ]);
    expect({
      errors: errors.map((e: { code?: string; message?: string }) => [e.code, e.message]),
      rows: await rowsOf(org),
      summaries: await t.store.imageSummaries(org, ['img-1']),
    }).toEqual({
      errors: [
        ['CP_INVALID_ARGUMENT', expect.stringContaining('digest')],
        ['CP_INVALID_ARGUMENT', expect.stringContaining('scanId')],
        ['CP_INVALID_ARGUMENT', expect.stringContaining('contents.packages')],
      ],
      rows: [],
      summaries: new Map(),
    });
  });
});

describe('rowsDigest', () => {
  it('ignores order, counts repeats, and tells the kinds apart', () => {
    const a = { package: '{"name":"a"}', finding: '{"id":"x"}' };
    const b = { package: '{"name":"b"}', finding: '{"id":"y"}' };
    expect({
      order: rowsDigest([a, b], 'package') === rowsDigest([b, a], 'package'),
      repeat: rowsDigest([a, a], 'package') === rowsDigest([a], 'package'),
      joined:
        rowsDigest([{ package: 'ab' }], 'package') ===
        rowsDigest([{ package: 'a' }, { package: 'b' }], 'package'),
      kinds: rowsDigest([], 'package') === rowsDigest([], 'finding'),
      shape: rowsDigest([a], 'finding'),
    }).toEqual({
      order: true,
      repeat: false,
      joined: false,
      kinds: false,
      shape: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });
});
