/**
 * Group commit of publications on chdb: concurrent completions of one org share statements, every caller gets
 * its own summary (the same as an unbatched publish), and a bad completion fails only its own caller.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptCounter } from './attempt-counts.js';
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
    // the first alone (a look for an earlier publication, two counts, two inserts), the seven that arrived
    // meanwhile together
    expect(calls).toEqual({ query: 6, insert: 4 });
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

describe('batchPublishes: appends', () => {
  const zlib = pkg('zlib', '1.2.13');
  const findingsOf = (n: number) =>
    Array.from({ length: n }, (_, i) => finding(`CVE-2025-${2000 + i}`, 'MEDIUM', zlib));

  it('joins appends arriving while one is inserted (across orgs), each counted and published as alone', async () => {
    const store = batchPublishes(counted);
    const counters = Array.from({ length: 6 }, () => new AttemptCounter());
    calls.query = calls.insert = 0;
    await Promise.all(
      counters.map((counter, n) =>
        store.appendBatch(`org-append-${n % 2}`, [
          { scanId: `scan-${n}`, attempt: 1, packages: [openssl, zlib], findings: findingsOf(n), counter },
        ]),
      ),
    );
    // the first alone (packages, findings), the five that arrived meanwhile together
    expect(calls).toEqual({ query: 0, insert: 4 });
    for (const [n, counter] of counters.entries()) {
      const org = `org-append-${n % 2}`;
      expect(counter.counts()).toEqual({
        counts: { critical: 0, high: 0, medium: n, low: 0, unknown: 0, total: n },
        fixable: 0,
        packages: 2,
      });
      const summary = await t.store.publishScan(org, scan(n));
      expect(summary.counts.medium).toBe(n);
      expect(summary.packages).toBe(2);
      expect((await t.store.imageFindings(org, `img-${n}`)).findings).toHaveLength(n);
    }
  });

  it('rejects only the caller whose rows are bad, before anything is written', async () => {
    const store = batchPublishes(counted);
    const bad = { ...finding('CVE-2025-3000', 'HIGH', zlib), severity: 'SEVERE' } as never;
    const outcomes = await Promise.allSettled([
      store.appendFindings('org-append-bad', 'scan-0', 1, findingsOf(1)),
      store.appendFindings('org-append-bad', 'scan-1', 1, [bad]),
      store.appendFindings('org-append-bad', 'scan-2', 1, findingsOf(2)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes[1]).toMatchObject({ reason: { code: 'CP_INVALID_ARGUMENT' } });
    for (const n of [0, 1, 2]) await t.store.publishScan('org-append-bad', scan(n));
    const counts = await t.store.imageSummaries('org-append-bad', ['img-0', 'img-1', 'img-2']);
    expect(['img-0', 'img-1', 'img-2'].map((i) => counts.get(i)?.counts.total)).toEqual([1, 0, 2]);
  });

  it('an insert that fails rejects every caller joined in it, and counts none of their rows', async () => {
    let failing = false;
    const driver = t.store.driver;
    const flaky = new ClickHouseAnalyticsStore(
      Object.assign(Object.create(driver) as ClickHouseDriver, {
        insert: (...args: Parameters<ClickHouseDriver['insert']>) =>
          failing ? Promise.reject(new Error('too many parts')) : driver.insert(...args),
      }),
    );
    const store = batchPublishes(flaky);
    const counters = [new AttemptCounter(), new AttemptCounter(), new AttemptCounter()];
    const append = (n: number) =>
      store.appendBatch('org-append-fail', [
        { scanId: `scan-${n}`, attempt: 1, findings: findingsOf(2), counter: counters[n] },
      ]);
    const first = append(0);
    failing = true; // the first insert has started; the two joined after it fail together
    const outcomes = await Promise.allSettled([first, append(1), append(2)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(counters.map((c) => c.counts().counts.total)).toEqual([2, 0, 0]);
  });

  it('a large append goes alone', async () => {
    const store = batchPublishes(counted, { maxAppendRows: 3 });
    calls.query = calls.insert = 0;
    await Promise.all(
      [1, 4, 1, 1].map((n, i) => store.appendFindings('org-append-large', `scan-${i}`, 1, findingsOf(n))),
    );
    // [1] alone (in progress), then [4] (over the limit with anything), then [1, 1]: three appends of two tables
    expect(calls).toEqual({ query: 0, insert: 6 });
  });
});
