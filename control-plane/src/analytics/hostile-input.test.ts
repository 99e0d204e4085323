import type { Finding } from '@vigil/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finding, fixable, openTestStore, pkg, type TestStore } from './testdata/fixtures.js';
import type { PublishScan } from './types.js';

let t: TestStore;
beforeAll(async () => {
  t = await openTestStore();
});
afterAll(async () => {
  await t.dispose();
});

const HOSTILE = [
  "'",
  '\\',
  "\\'",
  "'; DROP TABLE findings; --",
  "' OR '1'='1",
  '") OR ("1"="1',
  '{org:String}',
  '{text:String}',
  'a\0b',
  'line\nbreak\ttab\rreturn',
  '%_%',
  '`backtick`',
  '\\N',
  'emoji 🐛 ünïcödé \u2028\u2029',
  'x'.repeat(500), // with "-alias" still within the 512-character id limit
];

function publishOf(h: string): PublishScan {
  return {
    scanId: h,
    attempt: 1,
    digest: h,
    imageIds: [h],
    completedAt: new Date('2025-05-01T00:00:00Z'),
    os: null,
  };
}

describe('hostile strings are data, never SQL', () => {
  it.each(HOSTILE.map((h, i) => [i, h]))('round trip #%i through every method', async (_i, h) => {
    const f = fixable(finding(h, 'HIGH', pkg(h, h, { path: h }), { aliases: [`${h}-alias`], title: h }));
    await t.store.appendInventory(h, h, 1, [f.package]);
    await t.store.appendFindings(h, h, 1, [f]);
    const published = await t.store.publishScan(h, publishOf(h));
    const page = await t.store.imageFindings(h, h, { limit: 1 });
    expect({
      published: [published.scanId, published.counts.high, published.packages],
      summaries: [...(await t.store.imageSummaries(h, [h])).keys()],
      summary: (await t.store.summary(h, { imageIds: [h] })).images,
      page,
      byText: await t.store.imageFindings(h, h, { text: h, fixable: true }),
      byId: await t.store.vulnerableImages(h, h),
      byAlias: await t.store.vulnerableImages(h, `${h}-alias`),
    }).toEqual({
      published: [h, 1, 1],
      summaries: [h],
      summary: 1,
      page: { findings: [f], nextCursor: null },
      byText: { findings: [f], nextCursor: null },
      byId: { images: [{ imageId: h, findings: [f] }], nextCursor: null },
      byAlias: { images: [{ imageId: h, findings: [f] }], nextCursor: null },
    });
  });

  it('the tables are intact and every org sees exactly its own row', async () => {
    const perOrg = await t.store.driver.query<{ org_id: string; n: number }>(
      'SELECT org_id, toUInt32(count()) AS n FROM findings GROUP BY org_id ORDER BY org_id',
    );
    expect(perOrg).toEqual([...HOSTILE].sort().map((h) => ({ org_id: h, n: 1 })));
    expect(await t.store.summary("' OR '1'='1")).toEqual({
      images: 1,
      counts: { critical: 0, high: 1, medium: 0, low: 0, unknown: 0, total: 1 },
      fixable: 1,
    });
  });

  it('a lone surrogate in finding text is kept in the finding; the text filter sees U+FFFD', async () => {
    const f = finding('CVE-2024-7', 'LOW', pkg('bad\ud800name'), { title: 'lone \udc00 title' });
    await t.store.appendFindings('org-surrogate', 'scan', 1, [f]);
    await t.store.publishScan('org-surrogate', publishOf('scan'));
    expect({
      all: await t.store.imageFindings('org-surrogate', 'scan'),
      byText: await t.store.imageFindings('org-surrogate', 'scan', { text: 'lone \ufffd title' }),
    }).toEqual({ all: { findings: [f], nextCursor: null }, byText: { findings: [f], nextCursor: null } });
  });

  it('a well-formed cursor with hostile key values only positions the page', async () => {
    const cursor = Buffer.from(
      JSON.stringify(['analytics-findings', '0', "') OR 1=1 --", '{org:String}', "'; DROP TABLE findings"]),
    ).toString('base64url');
    expect(await t.store.imageFindings("'", "'", { cursor })).toEqual({
      findings: [expect.objectContaining({ id: "'" })],
      nextCursor: null,
    });
  });
});

describe('bad arguments are CP_INVALID_ARGUMENT, and nothing is written', () => {
  const ok = finding('CVE-2024-1', 'LOW', pkg('zlib'));
  const s = () => t.store;
  it.each<[string, () => Promise<unknown>]>([
    ['empty org', () => s().summary('')],
    ['org too long', () => s().imageSummaries('o'.repeat(513), ['i'])],
    ['org not a string', () => s().summary(42 as never)],
    ['org with a lone surrogate', () => s().summary('org \ud800')],
    ['scan with a lone surrogate', () => s().appendFindings('org', '\udc00 scan', 1, [ok])],
    ['empty image id', () => s().imageFindings('org', '')],
    ['image ids not an array', () => s().imageSummaries('org', 'img' as never)],
    ['an empty image id in a list', () => s().summary('org', { imageIds: ['a', ''] })],
    ['empty vulnerability id', () => s().vulnerableImages('org', '')],
    ['vulnerability page limit', () => s().vulnerableImages('org', 'CVE-1', { limit: 0 })],
    ['attempt 0', () => s().appendFindings('org', 'scan', 0, [ok])],
    ['attempt 1.5', () => s().appendFindings('org', 'scan', 1.5, [ok])],
    ['attempt beyond 32 bits', () => s().appendInventory('org', 'scan', 2 ** 32, [])],
    ['attempt as text', () => s().appendInventory('org', 'scan', '1' as never, [])],
    [
      'unknown severity',
      () => s().appendFindings('org', 'scan', 1, [ok, { ...ok, severity: 'SEVERE' as never }]),
    ],
    [
      'finding without package',
      () => s().appendFindings('org', 'scan', 1, [{ ...ok, package: undefined as never }]),
    ],
    ['aliases not strings', () => s().appendFindings('org', 'scan', 1, [{ ...ok, aliases: [1] as never }])],
    ['finding not an object', () => s().appendFindings('org', 'scan', 1, [null as unknown as Finding])],
    [
      'package without version',
      () => s().appendInventory('org', 'scan', 1, [{ ...pkg('a'), version: undefined as never }]),
    ],
    [
      'completedAt invalid',
      () => s().publishScan('org', { ...publishOf('scan'), completedAt: new Date('nope') }),
    ],
    [
      'completedAt in 2500',
      () => s().publishScan('org', { ...publishOf('scan'), completedAt: new Date('2500-01-01') }),
    ],
    [
      'completedAt a string',
      () => s().publishScan('org', { ...publishOf('scan'), completedAt: '2025' as never }),
    ],
    ['empty digest', () => s().publishScan('org', { ...publishOf('scan'), digest: '' })],
    ['text too long', () => s().imageFindings('org', 'img', { text: 'x'.repeat(1001) })],
    ['fixable not a boolean', () => s().imageFindings('org', 'img', { fixable: 'yes' as never })],
    ['prune date invalid', () => s().pruneUnpublished(new Date('nope'))],
  ])('%s', async (_name, call) => {
    await expect(call()).rejects.toMatchObject({ name: 'ControlPlaneError', code: 'CP_INVALID_ARGUMENT' });
  });

  it('a chunk with one bad finding writes none of it', async () => {
    await expect(
      t.store.appendFindings('org-bad', 'scan', 1, [ok, { ...ok, severity: 'SEVERE' as never }]),
    ).rejects.toMatchObject({ code: 'CP_INVALID_ARGUMENT' });
    expect((await t.store.publishScan('org-bad', publishOf('scan'))).counts.total).toBe(0);
  });
});
