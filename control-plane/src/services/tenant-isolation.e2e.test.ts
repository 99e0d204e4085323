/**
 * Tenant isolation of every ScanService and QueryService method, and of the worker path: organisation A, using
 * organisation B's ids, reads nothing, changes nothing and counts nothing of B — even for an image both have
 * (same digest), whose scans and summaries stay apart.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanEvent } from './api.js';
import {
  completeReport,
  messages,
  openBackends,
  startServices,
  wireFinding,
  wirePackage,
  type Backends,
  type ServiceInstance,
} from './testdata/harness.js';
import { finding, pkg, report } from './testdata/reports.js';
import type { BatchRecord, ImageRecord, ScanRecord } from './types.js';

let backends: Backends;
let cp: ServiceInstance;
const user = { type: 'user' as const, id: null };
const digest = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;
const shared = digest('shared');

interface Tenant {
  org: string;
  scanned: ImageRecord;
  queued: ScanRecord;
  batch: BatchRecord;
}
let a: Tenant;
let b: Tenant;

async function tenant(slug: string, cve: string): Promise<Tenant> {
  const org = (await backends.stores.orgs.createOrg({ slug, name: slug })).id;
  const { image: scanned } = await cp.services.scans.ingestReport(
    org,
    report(
      `registry.test/${slug}/app:1`,
      shared,
      [pkg('openssl')],
      [finding(cve, 'CRITICAL', pkg('openssl'))],
    ),
    user,
  );
  const { scan: queued } = await cp.services.scans.requestScan(
    org,
    { target: { reference: `registry.test/${slug}/queued@${digest(slug)}` }, priority: 'ci' },
    user,
  );
  const batch = await cp.services.scans.bulkScan(
    org,
    { filter: { text: `${slug}/app` }, priority: 'scheduled', force: true },
    user,
  );
  return { org, scanned, queued, batch };
}

beforeAll(async () => {
  backends = await openBackends();
  cp = await startServices(backends);
  a = await tenant('tenant-a', 'CVE-2024-1111');
  b = await tenant('tenant-b', 'CVE-2024-2222');
});
afterAll(async () => {
  await cp?.close();
  await backends?.dispose();
});

const code = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (v) => v,
    (e: { code: string }) => e.code,
  );

async function drain(events: AsyncIterable<ScanEvent>): Promise<number> {
  let n = 0;
  for await (const _ of events) n++;
  return n;
}

describe('organisation A with organisation B ids', () => {
  it('reads nothing, changes nothing and counts nothing of B', async () => {
    const { scans, queries } = cp.services;
    const before = {
      scan: await scans.getScan(b.org, b.queued.id),
      image: await queries.getImage(b.org, b.scanned.id),
    };
    const outcomes = {
      getScan: await scans.getScan(a.org, b.queued.id),
      cancelScan: await code(scans.cancelScan(a.org, b.queued.id, user)),
      requestScan: await code(
        scans.requestScan(a.org, { target: { imageId: b.scanned.id }, priority: 'manual' }, user),
      ),
      bulkScanByIds: await code(
        scans
          .bulkScan(a.org, { imageIds: [b.scanned.id], priority: 'manual' }, user)
          .then((x) => [x.matched, x.total]),
      ),
      getBatch: await scans.getBatch(a.org, b.batch.id),
      cancelBatch: await code(scans.cancelBatch(a.org, b.batch.id, user)),
      watchScan: await code(drain(scans.watchScan(a.org, b.queued.id, new AbortController().signal))),
      getImage: await queries.getImage(a.org, b.scanned.id),
      imageFindings: await code(queries.imageFindings(a.org, b.scanned.id)),
      vulnerableImages: await queries.vulnerableImages(a.org, 'CVE-2024-2222'),
      listImages: (await queries.listImages(a.org, { sort: 'severity' })).items.map((i) => i.orgId === a.org),
      summary: await queries.summary(a.org),
    };
    const after = {
      scan: await scans.getScan(b.org, b.queued.id),
      image: await queries.getImage(b.org, b.scanned.id),
    };
    expect({ outcomes, bUnchanged: after }).toEqual({
      outcomes: {
        getScan: null,
        cancelScan: 'CP_NOT_FOUND',
        requestScan: 'CP_NOT_FOUND',
        bulkScanByIds: [0, 0],
        getBatch: null,
        cancelBatch: 'CP_NOT_FOUND',
        watchScan: 'CP_NOT_FOUND',
        getImage: null,
        imageFindings: 'CP_NOT_FOUND',
        vulnerableImages: { items: [], nextCursor: null },
        listImages: [true, true],
        summary: {
          images: 2,
          scannedImages: 1,
          counts: { critical: 1, high: 0, medium: 0, low: 0, unknown: 0, total: 1 },
          fixable: 0,
        },
      },
      bUnchanged: before,
    });
  });

  it("keeps a worker's completion of A's scan of a shared digest away from B's image of that digest", async () => {
    const { scan } = await cp.services.scans.requestScan(
      a.org,
      { target: { imageId: a.scanned.id }, priority: 'manual' },
      user,
    );
    await cp.worker.claimJob({ scanId: scan.id, attempt: 1 }, { metadata: cp.metadata });
    await cp.worker.report(
      messages(
        scan.id,
        1,
        completeReport([wirePackage('zlib')], [wireFinding('CVE-2024-3333', 'LOW', wirePackage('zlib'))]),
      ),
      { metadata: cp.metadata },
    );
    const aFindings = await cp.services.queries.imageFindings(a.org, a.scanned.id);
    const bFindings = await cp.services.queries.imageFindings(b.org, b.scanned.id);
    expect({
      a: aFindings.findings.map((f) => f.id),
      b: bFindings.findings.map((f) => f.id),
      bSummary: (await cp.services.queries.getImage(b.org, b.scanned.id))?.summary?.counts,
      bVulnerable: (await cp.services.queries.vulnerableImages(b.org, 'CVE-2024-3333')).items,
    }).toEqual({
      a: ['CVE-2024-3333'],
      b: ['CVE-2024-2222'],
      bSummary: { critical: 1, high: 0, medium: 0, low: 0, unknown: 0, total: 1 },
      bVulnerable: [],
    });
  });
});
