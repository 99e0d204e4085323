import type { Finding, Package } from '@vigil/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanDiffPage } from './diff.js';
import { finding, fixable, openTestStore, pkg, type TestStore } from './testdata/fixtures.js';

let t: TestStore;
const ORG = 'org-diff';
const OTHER = 'org-other';
const OLD = { scanId: 'scan-old', attempt: 1 };
const NEW = { scanId: 'scan-new', attempt: 2 };

const requestsAt = (version: string): Package =>
  pkg('requests', version, {
    ecosystem: 'pypi',
    purl: `pkg:pypi/requests@${version}`,
    path: `usr/lib/python3/site-packages/requests-${version}.dist-info/METADATA`,
  });
const lodash = pkg('lodash', '4.17.20', { ecosystem: 'npm', path: 'app/node_modules/lodash/package.json' });
const curl = pkg('curl', '7.88.1-10');
const zlib = pkg('zlib', '1:1.2.13');
const busybox = pkg('busybox', '1.36.1-2');

// The older scan: openssl 3.0.1, curl, zlib, lodash and requests 2.31.0.
const OLD_PACKAGES = [pkg('openssl', '3.0.1'), curl, zlib, lodash, requestsAt('2.31.0')];
const OLD_FINDINGS = {
  upgraded: fixable(finding('CVE-2024-0001', 'CRITICAL', pkg('openssl', '3.0.1')), '3.0.2'),
  unchanged: finding('CVE-2024-0002', 'HIGH', curl),
  renamed: finding('GHSA-cccc-cccc-cccc', 'HIGH', curl),
  removed: finding('CVE-2024-0003', 'MEDIUM', zlib),
  withdrawn: finding('CVE-2024-0004', 'LOW', lodash),
  pipUpgraded: fixable(finding('CVE-2024-0005', 'MEDIUM', requestsAt('2.31.0')), '2.32.0'),
};
// The newer scan: openssl upgraded, zlib gone, busybox added, requests upgraded (its dist-info path moved along).
const NEW_PACKAGES = [pkg('openssl', '3.0.2'), curl, lodash, requestsAt('2.32.3'), busybox];
const NEW_FINDINGS = {
  unchanged: finding('CVE-2024-0002', 'HIGH', curl),
  // the GHSA now reported under its CVE: the same vulnerability, not a change
  renamed: finding('CVE-2024-0009', 'HIGH', curl, { aliases: ['GHSA-CCCC-CCCC-CCCC'] }),
  added: finding('CVE-2024-0006', 'CRITICAL', busybox),
  upgradedInto: finding('CVE-2024-0007', 'HIGH', pkg('openssl', '3.0.2')),
  rematched: finding('CVE-2024-0008', 'LOW', curl),
};

const counts = (c: Partial<Record<'critical' | 'high' | 'medium' | 'low' | 'unknown', number>>) => {
  const all = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0, ...c };
  return { ...all, total: Object.values(all).reduce((a, b) => a + b, 0) };
};

const EXPECTED: ScanDiffPage = {
  counts: {
    new: counts({ critical: 1, high: 1, low: 1 }),
    resolved: counts({ critical: 1, medium: 2, low: 1 }),
  },
  new: [
    { finding: NEW_FINDINGS.added, previousVersion: null, reason: 'package-added' },
    { finding: NEW_FINDINGS.upgradedInto, previousVersion: '3.0.1', reason: 'version-changed' },
    { finding: NEW_FINDINGS.rematched, previousVersion: '7.88.1-10', reason: 'database-changed' },
  ],
  resolved: [
    { finding: OLD_FINDINGS.upgraded, installedVersion: '3.0.2', removed: false, reason: 'version-changed' },
    { finding: OLD_FINDINGS.removed, installedVersion: null, removed: true, reason: 'package-removed' },
    {
      finding: OLD_FINDINGS.pipUpgraded,
      installedVersion: '2.32.3',
      removed: false,
      reason: 'version-changed',
    },
    {
      finding: OLD_FINDINGS.withdrawn,
      installedVersion: '4.17.20',
      removed: false,
      reason: 'database-changed',
    },
  ],
  nextCursor: null,
};

async function publish(org: string, ref: { scanId: string; attempt: number }, completedAt: string) {
  await t.store.publishScan(org, {
    ...ref,
    digest: 'sha256:d1ff',
    imageIds: ['img-1'],
    completedAt: new Date(completedAt),
    os: null,
  });
}

beforeAll(async () => {
  t = await openTestStore();
  await t.store.appendBatch(ORG, [
    { ...OLD, packages: OLD_PACKAGES, findings: Object.values(OLD_FINDINGS) },
    { ...NEW, packages: NEW_PACKAGES, findings: Object.values(NEW_FINDINGS) },
    // a chunk appended twice counts once
    { ...NEW, findings: [NEW_FINDINGS.added] },
    // attempt 1 of the newer scan was never published: its rows never count
    { scanId: NEW.scanId, attempt: 1, packages: [], findings: [finding('CVE-2024-9999', 'CRITICAL', curl)] },
  ]);
  await publish(ORG, OLD, '2025-05-01T00:00:00Z');
  await publish(ORG, NEW, '2025-05-02T00:00:00Z');
  // another organisation's rows under the same scan ids
  await t.store.appendBatch(OTHER, [
    { ...OLD, packages: [curl], findings: [finding('CVE-2024-7777', 'HIGH', curl)] },
  ]);
  await publish(OTHER, OLD, '2025-05-01T00:00:00Z');
});
afterAll(async () => {
  await t?.dispose();
});

/** Every page at `limit`, merged. */
async function allPages(limit: number): Promise<{ pages: number; merged: ScanDiffPage }> {
  const merged: ScanDiffPage = { ...EXPECTED, new: [], resolved: [], nextCursor: null };
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await t.store.scanDiff(ORG, NEW, OLD, { limit, cursor });
    merged.counts = page.counts;
    merged.new.push(...page.new);
    merged.resolved.push(...page.resolved);
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 20);
  return { pages, merged };
}

describe('scanDiff', () => {
  it('lists new and resolved findings with why each changed; unchanged ones and aliases are absent', async () => {
    expect(await t.store.scanDiff(ORG, NEW, OLD)).toEqual(EXPECTED);
  });

  it('pages through the same entries with a cursor', async () => {
    expect(await allPages(2)).toEqual({ pages: 4, merged: EXPECTED });
    expect(await allPages(3)).toEqual({ pages: 3, merged: EXPECTED });
  });

  it('reads the first scan of an image as all new', async () => {
    const page = await t.store.scanDiff(ORG, OLD, null);
    expect(page).toEqual({
      counts: { new: counts({ critical: 1, high: 2, medium: 2, low: 1 }), resolved: counts({}) },
      new: [
        OLD_FINDINGS.upgraded,
        OLD_FINDINGS.unchanged,
        OLD_FINDINGS.renamed,
        OLD_FINDINGS.removed,
        OLD_FINDINGS.pipUpgraded,
        OLD_FINDINGS.withdrawn,
      ].map((f: Finding) => ({ finding: f, previousVersion: null, reason: 'package-added' })),
      resolved: [],
      nextCursor: null,
    });
  });

  it('reads the diff back to front as the reverse change', async () => {
    const page = await t.store.scanDiff(ORG, OLD, NEW);
    expect({
      new: page.new.map((e) => [e.finding.id, e.previousVersion, e.reason]),
      resolved: page.resolved.map((e) => [e.finding.id, e.installedVersion, e.removed, e.reason]),
    }).toEqual({
      new: [
        ['CVE-2024-0001', '3.0.2', 'version-changed'],
        ['CVE-2024-0003', null, 'package-added'],
        ['CVE-2024-0005', '2.32.3', 'version-changed'],
        ['CVE-2024-0004', '4.17.20', 'database-changed'],
      ],
      resolved: [
        ['CVE-2024-0006', null, true, 'package-removed'],
        ['CVE-2024-0007', '3.0.1', false, 'version-changed'],
        ['CVE-2024-0008', '7.88.1-10', false, 'database-changed'],
      ],
    });
  });

  it("sees only the caller's organisation and published attempts", async () => {
    const empty = {
      counts: { new: counts({}), resolved: counts({}) },
      new: [],
      resolved: [],
      nextCursor: null,
    };
    expect({
      foreign: await t.store.scanDiff(OTHER, NEW, null),
      unpublished: await t.store.scanDiff(ORG, { scanId: NEW.scanId, attempt: 1 }, null),
      otherOrgSameIds: (await t.store.scanDiff(OTHER, OLD, null)).new.map((e) => e.finding.id),
    }).toEqual({ foreign: empty, unpublished: empty, otherOrgSameIds: ['CVE-2024-7777'] });
  });

  it('refuses bad input and cursors of another diff with coded errors', async () => {
    const { nextCursor } = await t.store.scanDiff(ORG, NEW, OLD, { limit: 1 });
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: { code?: string }) => e.code,
      );
    expect({
      otherDiff: await codeOf(t.store.scanDiff(ORG, NEW, null, { cursor: nextCursor })),
      garbage: await codeOf(t.store.scanDiff(ORG, NEW, OLD, { cursor: 'garbage' })),
      limit: await codeOf(t.store.scanDiff(ORG, NEW, OLD, { limit: 0 })),
      attempt: await codeOf(t.store.scanDiff(ORG, { scanId: 'x', attempt: 0 }, null)),
      emptyId: await codeOf(t.store.scanDiff(ORG, { scanId: '', attempt: 1 }, null)),
    }).toEqual({
      otherDiff: 'CP_CURSOR_INVALID',
      garbage: 'CP_CURSOR_INVALID',
      limit: 'CP_INVALID_ARGUMENT',
      attempt: 'CP_INVALID_ARGUMENT',
      emptyId: 'CP_INVALID_ARGUMENT',
    });
  });
});
