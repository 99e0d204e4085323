/**
 * QueryService on real parts, with images scanned through CLI uploads (ScanService.ingestReport): the severity
 * sort (critical count first, then high, …, never-scanned last, id for ties) paged by keyset cursors, the
 * minimum-severity and fixable filters, dashboard totals, image detail and findings, which images have a CVE
 * (by id or alias), and the DB info from the snapshot provider.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageView, ImageViewQuery } from './api.js';
import { openBackends, startServices, type Backends, type ServiceInstance } from './testdata/harness.js';
import { finding, pkg, report } from './testdata/reports.js';

let backends: Backends;
let cp: ServiceInstance;
let org: string;
const user = { type: 'user' as const, id: null };
const digest = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;
/** image label → id */
const ids: Record<string, string> = {};

const openssl = pkg('openssl', '3.1.4-r0');
const zlib = pkg('zlib', '1.3-r0');
// label → findings: crit-high (1 critical, 1 high), crit (1 critical), high3 (3 high), low-fixable, clean, never
const FINDINGS = {
  'crit-high': [
    finding('CVE-2024-0001', 'CRITICAL', openssl, '3.1.5-r0', ['GHSA-aaaa-bbbb-cccc']),
    finding('CVE-2024-0002', 'HIGH', zlib),
  ],
  crit: [finding('CVE-2024-0001', 'CRITICAL', openssl)],
  high3: [
    finding('CVE-2024-0003', 'HIGH', openssl),
    finding('CVE-2024-0004', 'HIGH', openssl),
    finding('CVE-2024-0005', 'HIGH', zlib, '1.3.1-r0'),
  ],
  'low-fixable': [finding('CVE-2024-0006', 'LOW', zlib, '1.3.1-r0')],
  clean: [],
};

beforeAll(async () => {
  backends = await openBackends();
  cp = await startServices(backends, {
    snapshot: () => ({
      version: 'sha256-snapshot',
      builtAt: '2026-11-26T00:00:00.000Z',
      sources: [
        {
          name: 'alpine',
          updatedAt: '2026-11-25T12:00:00.000Z',
          counts: { vulnerabilities: 120, kev: 0, epss: 0 },
        },
        { name: 'kev', counts: { vulnerabilities: 0, kev: 7, epss: 0 } },
      ],
    }),
  });
  org = (await backends.stores.orgs.createOrg({ slug: 'queries', name: 'Queries' })).id;
  for (const [label, findings] of Object.entries(FINDINGS)) {
    const { image } = await cp.services.scans.ingestReport(
      org,
      report(`registry.test/team/${label}:1.0`, digest(label), [openssl, zlib], findings),
      user,
    );
    ids[label] = image.id;
  }
  const never = await backends.stores.images.upsertImage(org, {
    repository: 'registry.test/team/never',
    digest: digest('never'),
  });
  ids.never = never.image.id;
});
afterAll(async () => {
  await cp?.close();
  await backends?.dispose();
});

const labelOf = (image: ImageView): string => Object.keys(ids).find((k) => ids[k] === image.id)!;

async function listAll(query: ImageViewQuery): Promise<string[]> {
  const labels: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await cp.services.queries.listImages(org, { ...query, cursor, limit: 2 });
    labels.push(...page.items.map(labelOf));
    cursor = page.nextCursor;
  } while (cursor);
  return labels;
}

/** Ties (equal counts) break by id: the expected order of two labels with equal counts. */
const byId = (...labels: string[]): string[] => [...labels].sort((a, b) => (ids[a]! < ids[b]! ? -1 : 1));

describe('listImages', () => {
  it('sorts by severity, worst first, pages by cursor, and filters by minimum severity and fixable', async () => {
    expect({
      desc: await listAll({ sort: 'severity' }),
      asc: await listAll({ sort: 'severity', order: 'asc' }),
      atLeastHigh: await listAll({ sort: 'severity', minSeverity: 'HIGH' }),
      critical: await listAll({ sort: 'severity', minSeverity: 'CRITICAL' }),
      low: await listAll({ sort: 'severity', minSeverity: 'LOW' }),
      fixable: await listAll({ sort: 'severity', fixable: true }),
      notFixable: await listAll({ sort: 'severity', fixable: false }),
      text: await listAll({ sort: 'name', text: 'team/CRIT' }),
    }).toEqual({
      desc: ['crit-high', 'crit', 'high3', 'low-fixable', 'clean', 'never'],
      asc: ['never', 'clean', 'low-fixable', 'high3', 'crit', 'crit-high'],
      atLeastHigh: ['crit-high', 'crit', 'high3'],
      critical: ['crit-high', 'crit'],
      low: ['crit-high', 'crit', 'high3', 'low-fixable'],
      fixable: ['crit-high', 'high3', 'low-fixable'],
      notFixable: ['crit', 'clean'],
      text: byId('crit', 'crit-high').sort(),
    });
  });

  it('refuses a bad minimum severity, a cursor of another sort and an unknown sort', async () => {
    const page = await cp.services.queries.listImages(org, { sort: 'severity', limit: 1 });
    const codes = await Promise.all([
      cp.services.queries
        .listImages(org, { minSeverity: 'SEVERE' as never })
        .catch((e: { code: string }) => e.code),
      cp.services.queries
        .listImages(org, { sort: 'name', cursor: page.nextCursor })
        .catch((e: { code: string }) => e.code),
      cp.services.queries.listImages(org, { sort: 'risk' as never }).catch((e: { code: string }) => e.code),
      cp.services.queries.listImages(org, { fixable: 'yes' as never }).catch((e: { code: string }) => e.code),
    ]);
    expect(codes).toEqual([
      'CP_INVALID_ARGUMENT',
      'CP_CURSOR_INVALID',
      'CP_INVALID_ARGUMENT',
      'CP_INVALID_ARGUMENT',
    ]);
  });
});

describe('summary, detail and findings', () => {
  it('totals the latest completed scans, with and without a filter', async () => {
    expect({
      all: await cp.services.queries.summary(org),
      critical: await cp.services.queries.summary(org, { minSeverity: 'CRITICAL' }),
    }).toEqual({
      all: {
        images: 6,
        scannedImages: 5,
        counts: { critical: 2, high: 4, medium: 0, low: 1, unknown: 0, total: 7 },
        fixable: 3,
      },
      critical: {
        images: 2,
        scannedImages: 2,
        counts: { critical: 2, high: 1, medium: 0, low: 0, unknown: 0, total: 3 },
        fixable: 1,
      },
    });
  });

  it('shows an image with its summary and its findings, worst first; a never-scanned image has none', async () => {
    const image = await cp.services.queries.getImage(org, ids['crit-high']!);
    const findings = await cp.services.queries.imageFindings(org, ids['crit-high']!);
    const fixableOnly = await cp.services.queries.imageFindings(org, ids['crit-high']!, { fixable: true });
    const never = await cp.services.queries.imageFindings(org, ids.never!);
    expect({
      image: {
        repository: image?.repository,
        tags: image?.tags,
        summary: image?.summary && {
          ...image.summary,
          completedAt: image.summary.completedAt instanceof Date,
        },
        lastCompletedScanId: image?.lastCompletedScanId === image?.summary?.scanId,
      },
      findings: {
        scanId: findings.scanId === image?.summary?.scanId,
        rows: findings.findings.map((f) => [f.id, f.severity, f.package.name, f.fixedVersion, f.aliases]),
      },
      fixableOnly: fixableOnly.findings.map((f) => f.id),
      never,
    }).toEqual({
      image: {
        repository: 'registry.test/team/crit-high',
        tags: ['1.0'],
        summary: {
          imageId: ids['crit-high'],
          scanId: expect.any(String),
          attempt: 1,
          completedAt: true,
          os: { family: 'alpine', version: '3.19.1' },
          counts: { critical: 1, high: 1, medium: 0, low: 0, unknown: 0, total: 2 },
          fixable: 1,
          packages: 2,
        },
        lastCompletedScanId: true,
      },
      findings: {
        scanId: true,
        rows: [
          ['CVE-2024-0001', 'CRITICAL', 'openssl', '3.1.5-r0', ['GHSA-aaaa-bbbb-cccc']],
          ['CVE-2024-0002', 'HIGH', 'zlib', null, []],
        ],
      },
      fixableOnly: ['CVE-2024-0001'],
      never: { scanId: null, findings: [], nextCursor: null },
    });
  });

  it('answers which images have a vulnerability, by id or alias', async () => {
    const page = await cp.services.queries.vulnerableImages(org, 'CVE-2024-0001');
    const alias = await cp.services.queries.vulnerableImages(org, 'ghsa-aaaa-bbbb-cccc');
    const none = await cp.services.queries.vulnerableImages(org, 'CVE-1999-0001');
    expect({
      byId: page.items.map((i) => [
        labelOf(i.image),
        i.image.summary?.counts.critical,
        i.findings.map((f) => f.package.name),
      ]),
      alias: alias.items.map((i) => labelOf(i.image)),
      none,
      bad: await cp.services.queries.vulnerableImages(org, '').catch((e: { code: string }) => e.code),
    }).toEqual({
      byId: byId('crit-high', 'crit').map((l) => [l, 1, ['openssl']]),
      alias: ['crit-high'],
      none: { items: [], nextCursor: null },
      bad: 'CP_INVALID_ARGUMENT',
    });
  });

  it('reports the snapshot the control plane schedules against', async () => {
    expect(await cp.services.queries.dbInfo()).toEqual({
      version: 'sha256-snapshot',
      builtAt: new Date('2026-11-26T00:00:00.000Z'),
      sources: [
        { name: 'alpine', updatedAt: new Date('2026-11-25T12:00:00.000Z'), records: 120 },
        { name: 'kev', updatedAt: null, records: 7 },
      ],
    });
  });
});
