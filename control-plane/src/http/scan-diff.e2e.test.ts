/**
 * `GET /scans/{id}/diff` over the real service layer (scratch Postgres, chdb, the WorkerService on loopback): the
 * first scan of an image is all new; a rescan of the same digest is compared with it (new, resolved with the
 * version that resolved it, unchanged ones absent), page by page; a scan not completed, another tenant's scan and
 * hostile query parameters get coded 4xx answers. Tenant isolation, roles and bad ids for this route are in the
 * route tables (route-cases.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeReport, messages, wireFinding, wirePackage } from '../services/testdata/harness.js';
import { call, startApi, type ApiHarness } from './testdata/api-harness.js';

let h: ApiHarness;
let rescanId: string;
beforeAll(async () => {
  h = await startApi();
  // tenant a rescans its image: openssl upgraded (its critical CVE resolved), zlib added with a new CVE
  const { scan } = await h.cp.services.scans.requestScan(
    h.a.org.id,
    { target: { imageId: h.a.imageId }, priority: 'manual', force: true },
    { type: 'system', id: null },
  );
  rescanId = scan.id;
  const claim = await h.cp.worker.claimJob(
    { scanId: scan.id, attempt: 1, workerId: 'w1' },
    { metadata: h.cp.metadata },
  );
  if (!claim.proceed) throw new Error('rescan not claimed');
  const openssl = wirePackage('openssl', '3.0.2');
  const zlib = wirePackage('zlib', '1.2.13');
  await h.cp.worker.report(
    messages(
      scan.id,
      1,
      completeReport(
        [openssl, zlib],
        [wireFinding('CVE-2024-0002', 'HIGH', openssl), wireFinding('CVE-2099-3333', 'MEDIUM', zlib, '1.3')],
      ),
    ),
    { metadata: h.cp.metadata },
  );
});
afterAll(async () => {
  await h?.close();
});

const get = (url: string, bearer = h.a.tokens.read) =>
  call(h.app, { bearer }, { method: 'GET', url: `/api/v1${url}` });

interface DiffBody {
  scan: { id: string };
  previous: { id: string } | null;
  counts: Record<'new' | 'resolved', Record<string, number>>;
  new: Array<{
    finding: { id: string; package: { name: string; version: string } };
    previousVersion: string | null;
    reason: string;
  }>;
  resolved: Array<{
    finding: { id: string; package: { name: string; version: string }; fixedVersion?: string | null };
    installedVersion: string | null;
    removed: boolean;
    reason: string;
  }>;
  nextCursor: string | null;
}

/** The parts of a diff answer a reader looks at. */
function outline(body: DiffBody) {
  return {
    scan: body.scan.id,
    previous: body.previous?.id ?? null,
    counts: { new: body.counts.new.total, resolved: body.counts.resolved.total },
    new: body.new.map((e) => [
      e.finding.id,
      e.finding.package.name,
      e.finding.package.version,
      e.previousVersion,
      e.reason,
    ]),
    resolved: body.resolved.map((e) => [
      e.finding.id,
      e.finding.package.name,
      e.finding.package.version,
      e.installedVersion,
      e.removed,
      e.reason,
    ]),
    nextCursor: body.nextCursor,
  };
}

describe('GET /scans/{id}/diff', () => {
  it('reads the first scan of an image as all new, with no previous scan', async () => {
    const res = await get(`/scans/${h.a.completedScanId}/diff`);
    expect({ status: res.statusCode, ...outline(res.json<DiffBody>()) }).toEqual({
      status: 200,
      scan: h.a.completedScanId,
      previous: null,
      counts: { new: 2, resolved: 0 },
      new: [
        [h.a.vulnerabilityId, 'openssl', '3.0.1', null, 'package-added'],
        ['CVE-2024-0002', 'openssl', '3.0.1', null, 'package-added'],
      ],
      resolved: [],
      nextCursor: null,
    });
  });

  it("compares a rescan with the image's previous completed scan", async () => {
    const res = await get(`/scans/${rescanId}/diff`);
    const body = res.json<DiffBody>();
    expect({ status: res.statusCode, ...outline(body), severities: body.counts }).toEqual({
      status: 200,
      scan: rescanId,
      previous: h.a.completedScanId,
      counts: { new: 1, resolved: 1 },
      new: [['CVE-2099-3333', 'zlib', '1.2.13', null, 'package-added']],
      resolved: [[h.a.vulnerabilityId, 'openssl', '3.0.1', '3.0.2', false, 'version-changed']],
      nextCursor: null,
      severities: {
        new: { critical: 0, high: 0, medium: 1, low: 0, unknown: 0, total: 1 },
        resolved: { critical: 1, high: 0, medium: 0, low: 0, unknown: 0, total: 1 },
      },
    });
  });

  it('pages with a cursor', async () => {
    const first = (await get(`/scans/${rescanId}/diff?limit=1`)).json<DiffBody>();
    const second = (await get(`/scans/${rescanId}/diff?limit=1&cursor=${first.nextCursor}`)).json<DiffBody>();
    expect({
      first: { ...outline(first), nextCursor: typeof first.nextCursor },
      second: outline(second),
    }).toEqual({
      first: {
        scan: rescanId,
        previous: h.a.completedScanId,
        counts: { new: 1, resolved: 1 },
        new: [['CVE-2099-3333', 'zlib', '1.2.13', null, 'package-added']],
        resolved: [],
        nextCursor: 'string',
      },
      second: {
        scan: rescanId,
        previous: h.a.completedScanId,
        counts: { new: 1, resolved: 1 },
        new: [],
        resolved: [[h.a.vulnerabilityId, 'openssl', '3.0.1', '3.0.2', false, 'version-changed']],
        nextCursor: null,
      },
    });
  });

  it('answers coded 4xx for a scan not completed, a foreign scan and hostile parameters, never 500', async () => {
    const otherDiffCursor = (await get(`/scans/${rescanId}/diff?limit=1`)).json<DiffBody>().nextCursor!;
    const cases: Record<string, string> = {
      [`/scans/${h.a.queuedScanId}/diff`]: '409 CP_SCAN_NOT_COMPLETED',
      [`/scans/${h.b.completedScanId}/diff`]: '404 CP_NOT_FOUND',
      [`/scans/${h.a.completedScanId}/diff?cursor=${otherDiffCursor}`]: '400 CP_CURSOR_INVALID',
      [`/scans/${rescanId}/diff?cursor=garbage`]: '400 CP_CURSOR_INVALID',
      [`/scans/${rescanId}/diff?cursor=`]: '400 CP_INVALID_ARGUMENT',
      [`/scans/${rescanId}/diff?cursor=${'A'.repeat(3000)}`]: '400 CP_INVALID_ARGUMENT',
      [`/scans/${rescanId}/diff?limit=0`]: '400 CP_INVALID_ARGUMENT',
      [`/scans/${rescanId}/diff?limit=1001`]: '400 CP_INVALID_ARGUMENT',
      [`/scans/${rescanId}/diff?limit=abc`]: '400 CP_INVALID_ARGUMENT',
      [`/scans/${rescanId}/diff?limit=1&limit=2`]: '400 CP_INVALID_ARGUMENT',
      [`/scans/${rescanId}/diff?cursor=${encodeURIComponent("' OR 1=1 --")}`]: '400 CP_CURSOR_INVALID',
    };
    const outcomes: Record<string, string> = {};
    for (const url of Object.keys(cases)) {
      const res = await get(url);
      outcomes[url] = `${res.statusCode} ${res.json<{ code: string }>().code}`;
    }
    expect(outcomes).toEqual(cases);
  });
});
