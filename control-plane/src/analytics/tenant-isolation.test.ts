import { afterAll, beforeAll, expect, it } from 'vitest';
import { seedAnalytics, type SeedResult } from './seed.js';
import { finding, openTestStore, pkg, type TestStore } from './testdata/fixtures.js';

let t: TestStore;
let a: SeedResult;
const ZERO = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0, total: 0 };

beforeAll(async () => {
  t = await openTestStore();
  a = await seedAnalytics(t.store, {
    orgId: 'org-a',
    images: 12,
    findingsPerImage: 30,
    vulnerabilities: 100,
  });
});
afterAll(async () => {
  await t.dispose();
});

/** What org `org` sees of org A's images, scans and vulnerabilities through every read. */
async function seenBy(org: string) {
  const s = t.store;
  const firstPage = await s.imageFindings('org-a', a.imageIds[0]!, { limit: 5 });
  return {
    summaries: await s.imageSummaries(org, a.imageIds),
    summary: await s.summary(org),
    list: await s.listImageSummaries(org, { limit: 1000 }),
    listOfAsImages: await s.listImageSummaries(org, { imageIds: a.imageIds, sort: 'lastScan' }),
    summaryOfAsImages: await s.summary(org, { imageIds: a.imageIds }),
    findings: await Promise.all(a.imageIds.map((id) => s.imageFindings(org, id))),
    // A's cursor carries a position in the sort order, never an org: used by B it pages B's own (no) rows.
    findingsWithAsCursor: await s.imageFindings(org, a.imageIds[0]!, { cursor: firstPage.nextCursor }),
    common: await s.vulnerableImages(org, a.common.id),
    alias: await s.vulnerableImages(org, a.alias!.alias),
  };
}

const NOTHING = {
  summaries: new Map(),
  summary: { images: 0, counts: ZERO, fixable: 0 },
  list: { summaries: [], nextCursor: null },
  listOfAsImages: { summaries: [], nextCursor: null },
  summaryOfAsImages: { images: 0, counts: ZERO, fixable: 0 },
  findings: Array.from({ length: 12 }, () => ({ findings: [], nextCursor: null })),
  findingsWithAsCursor: { findings: [], nextCursor: null },
  common: { images: [], nextCursor: null },
  alias: { images: [], nextCursor: null },
};

it('org B sees nothing of org A in any read', async () => {
  expect(await seenBy('org-b')).toEqual(NOTHING);
});

it("org B writing under org A's scan and image ids changes nothing for A, and B sees only its own rows", async () => {
  const before = await seenBy('org-a');
  const scanId = a.scanIds[0]!;
  const imageId = a.imageIds[0]!;
  const mine = finding(a.common.id, 'LOW', pkg('only-in-b'));
  // same scan id, same attempt, same image id, a later completion: all in org B
  await t.store.appendInventory('org-b', scanId, 1, [pkg('only-in-b')]);
  await t.store.appendFindings('org-b', scanId, 1, [mine]);
  const published = await t.store.publishScan('org-b', {
    scanId,
    attempt: 1,
    digest: 'sha256:bb',
    imageIds: [imageId],
    completedAt: new Date('2030-01-01T00:00:00Z'),
    os: null,
  });

  expect({
    published: [published.counts, published.packages],
    b: {
      summary: await t.store.summary('org-b'),
      findings: await t.store.imageFindings('org-b', imageId),
      common: await t.store.vulnerableImages('org-b', a.common.id),
    },
    a: await seenBy('org-a'),
  }).toEqual({
    published: [{ ...ZERO, low: 1, total: 1 }, 1],
    b: {
      summary: { images: 1, counts: { ...ZERO, low: 1, total: 1 }, fixable: 0 },
      findings: { findings: [mine], nextCursor: null },
      common: { images: [{ imageId, findings: [mine] }], nextCursor: null },
    },
    a: before,
  });
});
