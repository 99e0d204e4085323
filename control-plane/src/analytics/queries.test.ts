import type { Finding } from '@vigil/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAnalytics, type SeedResult } from './seed.js';
import { finding, fixable, openTestStore, pkg, type TestStore } from './testdata/fixtures.js';
import type { FindingQuery, ImageSummaryQuery } from './types.js';

let t: TestStore;
let seeded: SeedResult;
const ORG = 'org-q';
const SEEDED = 'org-seeded';

// One image, findings in every severity; the same CVE in lodash at two paths (two findings of one package name).
const lodashA = pkg('lodash', '4.17.20', {
  ecosystem: 'npm',
  path: 'app/a/node_modules/lodash/package.json',
});
const lodashB = pkg('lodash', '4.17.20', {
  ecosystem: 'npm',
  path: 'app/b/node_modules/lodash/package.json',
});
const openssl = pkg('openssl', '3.0.11-1');
const curl = pkg('curl', '7.88.1-10');
const FINDINGS: Finding[] = [
  finding('CVE-2021-23337', 'HIGH', lodashB, {
    aliases: ['GHSA-35jh-r3h4-6jhm'],
    title: 'Command Injection in lodash',
  }),
  finding('CVE-2021-23337', 'HIGH', lodashA, {
    aliases: ['GHSA-35jh-r3h4-6jhm'],
    title: 'Command Injection in lodash',
  }),
  fixable(finding('CVE-2023-5678', 'MEDIUM', openssl, { title: 'Excessive time spent in DH check' })),
  fixable(finding('CVE-2024-0727', 'LOW', openssl, { title: 'PKCS12 NULL dereference' })),
  finding('CVE-2023-38545', 'CRITICAL', curl, { title: 'SOCKS5 heap buffer overflow' }),
  fixable(finding('CVE-2023-38546', 'LOW', curl, { title: 'cookie injection with none file' })),
  finding('TEMP-0000000-A1B2C3', 'UNKNOWN', openssl, { title: '' }),
  fixable(
    finding('CVE-2022-4450', 'HIGH', openssl, {
      aliases: ['DSA-5343-1'],
      title: 'double free after PEM_read_bio_ex',
    }),
  ),
];
/** FINDINGS in the store's order: severity worst first, then id, then package name, then package key (path). */
const SORTED = [
  FINDINGS[4],
  FINDINGS[1],
  FINDINGS[0],
  FINDINGS[7],
  FINDINGS[2],
  FINDINGS[5],
  FINDINGS[3],
  FINDINGS[6],
];

beforeAll(async () => {
  t = await openTestStore();
  await t.store.appendFindings(ORG, 'scan-1', 1, FINDINGS.slice(0, 5));
  await t.store.appendFindings(ORG, 'scan-1', 1, FINDINGS.slice(5));
  await t.store.publishScan(ORG, {
    scanId: 'scan-1',
    attempt: 1,
    digest: 'sha256:01',
    imageIds: ['img-1'],
    completedAt: new Date('2025-04-01T00:00:00Z'),
    os: null,
  });
  seeded = await seedAnalytics(t.store, {
    orgId: SEEDED,
    images: 40,
    findingsPerImage: 60,
    vulnerabilities: 400,
  });
});
afterAll(async () => {
  await t.dispose();
});

/** Every page of a listing at `limit`, following nextCursor. */
async function allPages(
  query: FindingQuery,
  imageId = 'img-1',
  org = ORG,
): Promise<{ pages: number; findings: Finding[] }> {
  const findings: Finding[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await t.store.imageFindings(org, imageId, { ...query, cursor });
    findings.push(...page.findings);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor);
  return { pages, findings };
}

describe('imageFindings', () => {
  it('orders by severity (worst first), then id, then package', async () => {
    expect(await t.store.imageFindings(ORG, 'img-1')).toEqual({ findings: SORTED, nextCursor: null });
  });

  it.each([
    ['minSeverity HIGH', { minSeverity: 'HIGH' }, [0, 1, 2, 3]],
    ['minSeverity LOW', { minSeverity: 'LOW' }, [0, 1, 2, 3, 4, 5, 6]],
    ['fixable', { fixable: true }, [3, 4, 5, 6]],
    ['not fixable', { fixable: false }, [0, 1, 2, 7]],
    ['text in an id, any case', { text: 'cve-2023-3854' }, [0, 5]],
    ['text in an alias', { text: 'ghsa-35JH' }, [1, 2]],
    ['text in an alias (DSA)', { text: 'DSA-5343' }, [3]],
    ['text in a package name', { text: 'OPENSSL' }, [3, 4, 6, 7]],
    ['text in a title', { text: 'heap buffer' }, [0]],
    ['text with LIKE wildcards is literal', { text: '%' }, []],
    ['combined', { minSeverity: 'MEDIUM', fixable: true, text: 'openssl' }, [3, 4]],
  ] as Array<[string, FindingQuery, number[]]>)('filters: %s', async (_name, query, indexes) => {
    expect(await t.store.imageFindings(ORG, 'img-1', query)).toEqual({
      findings: indexes.map((i) => SORTED[i]),
      nextCursor: null,
    });
  });

  it.each([1, 2, 3, 7])('pages of %i: every finding once, in order', async (limit) => {
    expect(await allPages({ limit })).toEqual({ pages: Math.ceil(SORTED.length / limit), findings: SORTED });
  });

  it('pages with a filter', async () => {
    expect(await allPages({ limit: 1, fixable: true })).toEqual({
      pages: 4,
      findings: [SORTED[3], SORTED[4], SORTED[5], SORTED[6]],
    });
  });

  it('pages of seeded images equal one big page', async () => {
    for (const imageId of seeded.imageIds.slice(0, 3)) {
      const whole = await t.store.imageFindings(SEEDED, imageId, { limit: 1000 });
      expect(whole.findings).toHaveLength(60);
      expect(await allPages({ limit: 7 }, imageId, SEEDED)).toEqual({ pages: 9, findings: whole.findings });
    }
  });

  it('an image never scanned has no findings', async () => {
    expect(await t.store.imageFindings(ORG, 'img-unknown')).toEqual({ findings: [], nextCursor: null });
  });

  it.each([
    ['garbage', 'not-a-cursor'],
    [
      'another listing',
      Buffer.from(JSON.stringify(['analytics-vulnerable-images', 'X', 'img'])).toString('base64url'),
    ],
    [
      'rank out of range',
      Buffer.from(JSON.stringify(['analytics-findings', '9', 'a', 'b', 'c'])).toString('base64url'),
    ],
    ['too short', Buffer.from(JSON.stringify(['analytics-findings', '0', 'a'])).toString('base64url')],
  ])('CP_CURSOR_INVALID for a bad cursor: %s', async (_name, cursor) => {
    await expect(t.store.imageFindings(ORG, 'img-1', { cursor })).rejects.toMatchObject({
      code: 'CP_CURSOR_INVALID',
    });
  });

  it.each([0, 1001, 1.5, -1])('CP_INVALID_ARGUMENT for limit %s', async (limit) => {
    await expect(t.store.imageFindings(ORG, 'img-1', { limit })).rejects.toMatchObject({
      code: 'CP_INVALID_ARGUMENT',
    });
  });

  it('CP_INVALID_ARGUMENT for an unknown severity', async () => {
    await expect(
      t.store.imageFindings(ORG, 'img-1', { minSeverity: 'SEVERE' as never }),
    ).rejects.toMatchObject({ code: 'CP_INVALID_ARGUMENT' });
  });
});

describe('vulnerableImages', () => {
  it('finds images by id or by alias, any case, with every matching finding', async () => {
    const expected = { images: [{ imageId: 'img-1', findings: [SORTED[1], SORTED[2]] }], nextCursor: null };
    expect({
      byId: await t.store.vulnerableImages(ORG, 'CVE-2021-23337'),
      byAlias: await t.store.vulnerableImages(ORG, 'GHSA-35jh-r3h4-6jhm'),
      byAliasLowerCase: await t.store.vulnerableImages(ORG, 'ghsa-35jh-r3h4-6jhm'),
      byDsa: await t.store.vulnerableImages(ORG, 'dsa-5343-1'),
      unknown: await t.store.vulnerableImages(ORG, 'CVE-1999-0001'),
    }).toEqual({
      byId: expected,
      byAlias: expected,
      byAliasLowerCase: expected,
      byDsa: { images: [{ imageId: 'img-1', findings: [SORTED[3]] }], nextCursor: null },
      unknown: { images: [], nextCursor: null },
    });
  });

  it('pages by image id: every image once, in order, equal to one big page', async () => {
    for (const target of [
      seeded.common,
      seeded.alias ? { id: seeded.alias.alias, images: seeded.alias.images } : null,
    ]) {
      if (!target) continue;
      const whole = await t.store.vulnerableImages(SEEDED, target.id, { limit: 1000 });
      const paged: typeof whole.images = [];
      let cursor: string | null = null;
      do {
        const page = await t.store.vulnerableImages(SEEDED, target.id, { limit: 3, cursor });
        paged.push(...page.images);
        cursor = page.nextCursor;
      } while (cursor);
      const ids = whole.images.map((i) => i.imageId);
      expect({ count: ids.length, sorted: [...ids].sort(), paged }).toEqual({
        count: target.images,
        sorted: ids,
        paged: whole.images,
      });
    }
  });

  it('CP_CURSOR_INVALID for a cursor of another vulnerability', async () => {
    const page = await t.store.vulnerableImages(SEEDED, seeded.common.id, { limit: 1 });
    expect(page.nextCursor).not.toBeNull();
    await expect(
      t.store.vulnerableImages(SEEDED, 'CVE-2000-0001', { cursor: page.nextCursor }),
    ).rejects.toMatchObject({ code: 'CP_CURSOR_INVALID' });
  });
});

describe('listImageSummaries', () => {
  type Summary = Awaited<ReturnType<typeof t.store.imageSummaries>> extends Map<string, infer S> ? S : never;
  const severityKey = (s: Summary) => [
    s.counts.critical,
    s.counts.high,
    s.counts.medium,
    s.counts.low,
    s.counts.unknown,
  ];
  const compare = (a: Array<number | string>, b: Array<number | string>) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return 0;
  };
  let all: Summary[];
  beforeAll(async () => {
    all = [...(await t.store.imageSummaries(SEEDED, seeded.imageIds)).values()];
  });
  async function pages(query: ImageSummaryQuery): Promise<Summary[]> {
    const out: Summary[] = [];
    let cursor: string | null = null;
    do {
      const page = await t.store.listImageSummaries(SEEDED, { ...query, cursor });
      out.push(...page.summaries);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  it('sorts by severity counts, worst first, ties by image id; pages equal one big page', async () => {
    const expected = [...all].sort((a, b) =>
      compare([...severityKey(b), b.imageId], [...severityKey(a), a.imageId]),
    );
    expect({
      whole: (await t.store.listImageSummaries(SEEDED, { limit: 1000 })).summaries,
      paged: await pages({ limit: 7 }),
      ascending: await pages({ order: 'asc', limit: 9 }),
    }).toEqual({ whole: expected, paged: expected, ascending: [...expected].reverse() });
  });

  it('sorts by last scan and filters by severity, fixable and image ids', async () => {
    const subset = seeded.imageIds.filter((_, i) => i % 3 === 0);
    const byTime = (list: Summary[]) =>
      [...list].sort((a, b) =>
        compare([a.completedAt.getTime(), a.imageId], [b.completedAt.getTime(), b.imageId]),
      );
    expect({
      lastScan: await pages({ sort: 'lastScan', order: 'asc', limit: 6 }),
      critical: await pages({ sort: 'lastScan', order: 'asc', minSeverity: 'CRITICAL', limit: 5 }),
      noneFixable: await pages({ fixable: false }),
      subset: await pages({ sort: 'lastScan', order: 'asc', imageIds: subset, limit: 4 }),
    }).toEqual({
      lastScan: byTime(all),
      critical: byTime(all.filter((s) => s.counts.critical > 0)),
      noneFixable: [],
      subset: byTime(all.filter((s) => subset.includes(s.imageId))),
    });
  });

  it('refuses a cursor of another sort or order, and bad arguments', async () => {
    const { nextCursor } = await t.store.listImageSummaries(SEEDED, { limit: 2 });
    const errors = await Promise.all(
      [
        () => t.store.listImageSummaries(SEEDED, { sort: 'lastScan', cursor: nextCursor }),
        () => t.store.listImageSummaries(SEEDED, { order: 'asc', cursor: nextCursor }),
        () => t.store.listImageSummaries(SEEDED, { sort: 'name' as never }),
        () => t.store.listImageSummaries(SEEDED, { limit: 0 }),
      ].map((call) => call().catch((e: { code: string }) => e.code)),
    );
    expect(errors).toEqual([
      'CP_CURSOR_INVALID',
      'CP_CURSOR_INVALID',
      'CP_INVALID_ARGUMENT',
      'CP_INVALID_ARGUMENT',
    ]);
  });
});

describe('summaries', () => {
  it('summary sums the latest scans of the org, or of some images', async () => {
    const all = await t.store.imageSummaries(SEEDED, seeded.imageIds);
    const total = (ids: string[]) =>
      ids.reduce(
        (acc, id) => {
          const s = all.get(id)!;
          (Object.keys(acc.counts) as Array<keyof typeof acc.counts>).forEach(
            (k) => (acc.counts[k] += s.counts[k]),
          );
          return { ...acc, images: acc.images + 1, fixable: acc.fixable + s.fixable };
        },
        { images: 0, counts: { critical: 0, high: 0, medium: 0, low: 0, unknown: 0, total: 0 }, fixable: 0 },
      );
    const some = seeded.imageIds.slice(5, 12);
    expect({
      summaries: all.size,
      all: await t.store.summary(SEEDED),
      some: await t.store.summary(SEEDED, { imageIds: [...some, 'img-not-there'] }),
    }).toEqual({ summaries: 40, all: total(seeded.imageIds), some: total(some) });
    expect((await t.store.summary(SEEDED)).counts.total).toBe(40 * 60);
  });
});
