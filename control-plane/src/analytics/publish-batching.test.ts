/**
 * Group commit of publications on chdb: concurrent completions of one org share statements, every caller gets
 * its own summary (the same as an unbatched publish), and a bad completion fails only its own caller.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseDriver } from './driver.js';
import { batchPublishes } from './publish-batching.js';
import { ClickHouseAnalyticsStore } from './store.js';
import { finding, openTestStore, pkg, type TestStore } from './testdata/fixtures.js';
import type { PublishScan } from './types.js';

let t: TestStore;
const calls = { query: 0, insert: 0 };
let counted: ClickHouseAnalyticsStore;
beforeAll(async () => {
  t = await openTestStore();
  const driver = t.store.driver;
  const counting: ClickHouseDriver = Object.assign(Object.create(driver) as ClickHouseDriver, {
    query: (...args: Parameters<ClickHouseDriver['query']>) => (calls.query++, driver.query(...args)),
    insert: (...args: Parameters<ClickHouseDriver['insert']>) => (calls.insert++, driver.insert(...args)),
  });
  counted = new ClickHouseAnalyticsStore(counting);
});
afterAll(async () => {
  await t?.dispose();
});

const openssl = pkg('openssl', '3.0.11-1');
const scan = (n: number): PublishScan => ({
  scanId: `scan-${n}`,
  attempt: 1,
  digest: `sha256:${n}`,
  imageIds: [`img-${n}`],
  completedAt: new Date('2025-03-01T10:00:00.000Z'),
  os: null,
});

async function writeScans(org: string, count: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    await t.store.appendInventory(org, `scan-${n}`, 1, [openssl]);
    // scan n has n HIGH findings
    const findings = Array.from({ length: n }, (_, i) => finding(`CVE-2025-${1000 + i}`, 'HIGH', openssl));
    if (findings.length > 0) await t.store.appendFindings(org, `scan-${n}`, 1, findings);
  }
}

const expectedSummary = (n: number) => ({
  scanId: `scan-${n}`,
  attempt: 1,
  completedAt: new Date('2025-03-01T10:00:00.000Z'),
  os: null,
  counts: { critical: 0, high: n, medium: 0, low: 0, unknown: 0, total: n },
  fixable: 0,
  packages: 1,
});

describe('batchPublishes', () => {
  it('publishes concurrent completions of one org in one batch, each caller with its own summary', async () => {
    const org = 'org-batch-1';
    await writeScans(org, 8);
    const store = batchPublishes(counted);
    calls.query = calls.insert = 0;
    const summaries = await Promise.all(Array.from({ length: 8 }, (_, n) => store.publishScan(org, scan(n))));
    expect(summaries).toEqual(Array.from({ length: 8 }, (_, n) => expectedSummary(n)));
    // the first alone (two counts, two inserts), the seven that arrived meanwhile together
    expect(calls).toEqual({ query: 4, insert: 4 });
    const latest = await t.store.imageSummaries(org, ['img-0', 'img-7']);
    expect([...latest.keys()].sort()).toEqual(['img-0', 'img-7']);
    expect(latest.get('img-7')?.counts.high).toBe(7);
    expect((await t.store.summary(org)).counts.high).toBe(28);
  });

  it('publishes a lone completion at once, and every other method is the store', async () => {
    const org = 'org-batch-2';
    await writeScans(org, 2);
    const store = batchPublishes(counted);
    expect(await store.publishScan(org, scan(1))).toEqual(expectedSummary(1));
    expect((await store.summary(org)).counts.high).toBe(1);
    expect(store.driver).toBe(counted.driver);
  });

  it('fails only the caller whose completion is bad', async () => {
    const org = 'org-batch-3';
    await writeScans(org, 4);
    const store = batchPublishes(counted);
    const outcomes = await Promise.allSettled([
      store.publishScan(org, scan(0)),
      store.publishScan(org, scan(1)),
      store.publishScan(org, { ...scan(2), digest: '' }),
      store.publishScan(org, scan(3)),
    ]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.counts.high : 'rejected'))).toEqual([
      0,
      1,
      'rejected',
      3,
    ]);
    expect(outcomes[2]).toMatchObject({ status: 'rejected', reason: { code: 'CP_INVALID_ARGUMENT' } });
  });

  it('leaves a store without publishScans as it is', () => {
    const plain = { publishScan: () => Promise.reject(new Error('unused')) };
    expect(batchPublishes(plain as never)).toBe(plain);
  });
});
