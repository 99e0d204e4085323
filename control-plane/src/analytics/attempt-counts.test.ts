import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding, Package, Severity } from '@vigil/engine';
import { AttemptCounter, type AttemptCounts } from './attempt-counts.js';
import type { ClickHouseDriver } from './driver.js';
import { analyticsQueries as q } from './queries.js';
import { severityCounts } from './rows.js';
import { ClickHouseAnalyticsStore } from './store.js';
import { finding, fixable, openTestStore, pkg, type TestStore } from './testdata/fixtures.js';
import type { PublishScan } from './types.js';

let t: TestStore;
beforeAll(async () => {
  t = await openTestStore();
});
afterAll(async () => {
  await t.dispose();
});

const SEVERITIES: Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

/** A deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A report as a worker streams it, in chunks, with what makes counting hard: a package in two layers (two
 * identities), the same package listed twice (one identity), findings repeated within a chunk and across chunks,
 * one vulnerability in several packages, one id at two severities, names whose lone surrogates the store writes
 * as U+FFFD (so two spellings become one identity), fixable and unfixable findings.
 */
function report(seed: number): { packages: Package[][]; findings: Finding[][] } {
  const next = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const packages: Package[] = [];
  for (let i = 0; i < 120; i++) packages.push(pkg(`lib-${i}`, `1.${i % 7}.0`));
  packages.push(pkg('lib-3', '1.3.0', { layer: 'sha256:upper' })); // same name and version, another layer
  packages.push(packages[5]!, packages[6]!); // listed twice
  packages.push(pkg('odd\uD800name', '1.0'), pkg('odd\uFFFDname', '1.0')); // one identity once stored
  const findings: Finding[] = [];
  for (let i = 0; i < 400; i++) {
    const f = finding(`CVE-2024-${1000 + Math.floor(next() * 250)}`, pick(SEVERITIES), pick(packages));
    findings.push(next() < 0.4 ? fixable(f) : f);
  }
  for (let i = 0; i < 60; i++) findings.push(pick(findings)); // repeats
  findings.push({ ...findings[0]!, severity: findings[0]!.severity === 'LOW' ? 'HIGH' : 'LOW' }); // another rank
  findings.push(finding('CVE-2024-9999', 'HIGH', pkg('odd\uD800name', '1.0')));
  findings.push(finding('CVE-2024-9999', 'HIGH', pkg('odd\uFFFDname', '1.0')));
  const chunks = <T>(xs: T[], size: number): T[][] =>
    Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, i * size + size));
  // the last chunk of findings repeats the first one (a chunk appended twice)
  const findingChunks = chunks(findings, 97);
  return { packages: chunks(packages, 50), findings: [...findingChunks, findingChunks[0]!] };
}

/** The counts publishScans' queries give for an attempt's stored rows. */
async function queried(org: string, scanId: string, attempt: number): Promise<AttemptCounts> {
  const f = q.attemptFindingCounts(org, [{ scanId, attempt }]);
  const p = q.attemptPackageCounts(org, [{ scanId, attempt }]);
  const [findingRow = {}] = await t.store.driver.query(f.sql, f.params);
  const [packageRow = {}] = await t.store.driver.query(p.sql, p.params);
  return {
    counts: severityCounts(findingRow),
    fixable: Number(findingRow.fixable ?? 0),
    packages: Number(packageRow.packages ?? 0),
  };
}

/** Appends a report chunk by chunk (inventory and findings chunks interleaved) through one counter. */
async function append(
  store: ClickHouseAnalyticsStore,
  org: string,
  scanId: string,
  attempt: number,
  r: { packages: Package[][]; findings: Finding[][] },
  counter?: AttemptCounter,
): Promise<void> {
  for (let i = 0; i < Math.max(r.packages.length, r.findings.length); i++) {
    await store.appendBatch(org, [
      { scanId, attempt, packages: r.packages[i], findings: r.findings[i], ...(counter ? { counter } : {}) },
    ]);
  }
}

function publish(scanId: string, attempt: number): PublishScan {
  return {
    scanId,
    attempt,
    digest: `sha256:${scanId}`,
    imageIds: [`img-${scanId}`],
    completedAt: new Date('2025-04-01T10:00:00.000Z'),
    os: null,
  };
}

/** The store over a driver that records the SELECTs it runs. */
function counting(store: ClickHouseAnalyticsStore): { store: ClickHouseAnalyticsStore; selects: string[] } {
  const selects: string[] = [];
  const driver: ClickHouseDriver = {
    ...store.driver,
    kind: store.driver.kind,
    query: (sql, params) => {
      selects.push(sql);
      return store.driver.query(sql, params);
    },
  };
  return { store: new ClickHouseAnalyticsStore(driver), selects };
}

describe('AttemptCounter', () => {
  it('counts what the count queries count, on reports with repeats, several layers and repaired names', async () => {
    for (const seed of [1, 2, 3]) {
      const org = `org-counter-${seed}`;
      const counter = new AttemptCounter();
      await append(t.store, org, 'scan-1', 1, report(seed), counter);
      const expected = await queried(org, 'scan-1', 1);
      expect(expected.counts.total).toBeGreaterThan(200);
      expect(counter.counts()).toEqual(expected);
    }
  });

  it('counts a part only once its inserts succeeded', async () => {
    const counter = new AttemptCounter();
    const failing = new ClickHouseAnalyticsStore({
      ...t.store.driver,
      kind: t.store.driver.kind,
      insert: () => Promise.reject(new Error('disk full')),
    });
    const r = report(4);
    await expect(
      failing.appendBatch('org-fail', [
        { scanId: 's', attempt: 1, packages: r.packages[0], findings: r.findings[0], counter },
      ]),
    ).rejects.toThrow('disk full');
    expect(counter.counts()).toEqual({ counts: severityCounts({}), fixable: 0, packages: 0 });
  });
});

describe('publishing with counts in hand', () => {
  it('publishes the counts in hand without a count query; the same summary as counting the rows', async () => {
    const org = 'org-held';
    const { store, selects } = counting(t.store);
    const r = report(5);
    // attempt 1 died half-way (never published); attempt 2 is the whole report, counted as it was appended
    await append(store, org, 'scan-1', 1, {
      packages: r.packages.slice(0, 1),
      findings: r.findings.slice(0, 2),
    });
    const counter = new AttemptCounter();
    await append(store, org, 'scan-1', 2, r, counter);
    // the same rows under another scan, published the old way (counted by queries)
    await append(store, org, 'scan-2', 1, r);

    const inHand = await store.publishScan(org, { ...publish('scan-1', 2), counted: counter.counts() });
    expect(selects).toEqual([]);
    const byQuery = await store.publishScan(org, publish('scan-2', 1));
    expect(selects).toHaveLength(3); // an earlier publication of the attempt looked for, then both counts
    expect({ ...inHand, scanId: 'scan-2', attempt: 1 }).toEqual(byQuery);
    expect(inHand.counts).toEqual((await queried(org, 'scan-1', 2)).counts);

    // what readers see is the same for both images
    const summaries = await store.imageSummaries(org, ['img-scan-1', 'img-scan-2']);
    const strip = (s: unknown) => ({ ...(s as object), imageId: '', scanId: '', attempt: 0 });
    expect(strip(summaries.get('img-scan-1'))).toEqual(strip(summaries.get('img-scan-2')));
  });

  it('a batch counts only the attempts published without counts', async () => {
    const org = 'org-held-batch';
    const { store, selects } = counting(t.store);
    const counters = [new AttemptCounter(), new AttemptCounter()];
    for (const [i, seed] of [6, 7, 8].entries()) {
      await append(store, org, `scan-${i}`, 1, report(seed), counters[i]);
    }
    const summaries = await store.publishScans(org, [
      { ...publish('scan-0', 1), counted: counters[0]!.counts() },
      { ...publish('scan-1', 1), counted: counters[1]!.counts() },
      publish('scan-2', 1),
    ]);
    // for scan-2 only: its earlier publication looked for, one finding count and one package count
    expect(selects).toHaveLength(3);
    for (const [i, s] of summaries.entries()) {
      const expected = await queried(org, `scan-${i}`, 1);
      expect({ counts: s.counts, fixable: s.fixable, packages: s.packages }).toEqual(expected);
    }
    selects.length = 0;
    // published again without counts (a retried completion after a restart): counted from the rows, same summary
    const again = await store.publishScan(org, publish('scan-0', 1));
    expect(selects).toHaveLength(3);
    expect(again).toEqual(summaries[0]);
  });

  it("refuses counts that are not an attempt's, publishing nothing", async () => {
    const { store } = counting(t.store);
    await append(store, 'org-a', 'scan-1', 1, report(9));
    const good: AttemptCounts = { counts: severityCounts({ high: 2 }), fixable: 1, packages: 3 };
    const bad: unknown[] = [
      { ...good, counts: { ...good.counts, total: 3 } },
      { ...good, fixable: -1 },
      { ...good, packages: 1.5 },
      { ...good, counts: { ...good.counts, critical: Number.NaN } },
      { fixable: 0, packages: 0 },
      null,
    ];
    for (const counted of bad) {
      await expect(
        store.publishScan('org-a', { ...publish('scan-1', 1), counted: counted as AttemptCounts }),
      ).rejects.toMatchObject({ code: 'CP_INVALID_ARGUMENT' });
    }
    expect(await store.imageSummaries('org-a', ['img-scan-1'])).toEqual(new Map());
  });
});
