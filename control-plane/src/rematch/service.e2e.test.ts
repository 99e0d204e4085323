/**
 * The rematch service over real stores (a scratch Postgres database, chdb) and the in-process queue: what a run
 * queues, what a claim hands out (identical inventories once), what a report records (one completed rematch scan
 * per image, found / resolved against the previous scan, the images' summaries), and that redelivered, repeated
 * and stale reports never duplicate anything; a batch failing on its last delivery is recorded failed.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Package } from '@vigil/engine/core';
import { create } from '@bufbuild/protobuf';
import { Severity as WireSeverity, FixState } from '@vigil/proto/v1/model_pb';
import { ReportRematchRequestSchema } from '@vigil/proto/v1/worker_pb';
import type { ClickHouseAnalyticsStore } from '../analytics/store.js';
import { createInProcessQueue, type InProcessQueue } from '../queue/in-process.js';
import {
  openBackends,
  startServices,
  type Backends,
  type ServiceInstance,
} from '../services/testdata/harness.js';
import { finding, pkg, report } from '../services/testdata/reports.js';
import { createRematch, type Rematch } from './service.js';

const user = { type: 'user' as const, id: null };
const digest = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;
const openssl = pkg('openssl', '3.1.4-r0');
const zlib = pkg('zlib', '1.3-r0');
const busybox = pkg('busybox', '1.36.1-r0');

let backends: Backends;
let cp: ServiceInstance;
let queue: InProcessQueue;
let rematch: Rematch;
let org: string;
/** the current snapshot version */
let current = 'db-v2';
/** label → { imageId, scanId } of the uploaded (previous) scan */
const images: Record<string, { imageId: string; scanId: string }> = {};

/** A ReportRematch request as it arrives. */
const request = (init: object) => create(ReportRematchRequestSchema, init as never);

/** A finding on the wire for a package as the claim handed it out. */
function wire(id: string, p: Package, severity: keyof typeof WireSeverity = 'HIGH') {
  return {
    id,
    package: {
      name: p.name,
      version: p.version,
      ecosystem: p.ecosystem,
      foundBy: p.foundBy,
      ...(p.purl !== undefined ? { purl: p.purl } : {}),
      ...(p.srcName !== undefined ? { srcName: p.srcName } : {}),
    },
    installedVersion: p.version,
    status: FixState.UNFIXED,
    severity: WireSeverity[severity],
    severitySource: 'cvss:nvd@nist.gov',
  };
}

async function rematchScans(): Promise<Array<Record<string, unknown>>> {
  const { rows } = await backends.db.query(
    `SELECT s.image_id AS "imageId", s.status, s.priority, s.attempt, s.db_version AS "dbVersion",
       s.matched_db_version AS "matched", s.previous_scan_id AS "previous", i.last_completed_scan_id = s.id AS "latest",
       i.critical, i.high, i.packages
     FROM scans s JOIN images i ON i.id = s.image_id WHERE s.kind = 'rematch' ORDER BY s.image_id`,
  );
  return rows;
}

beforeAll(async () => {
  backends = await openBackends();
  cp = await startServices(backends);
  org = (await backends.stores.orgs.createOrg({ slug: 'rematch', name: 'Rematch' })).id;
  // a and b share their inventory (different digests), c has its own
  const uploads: Record<string, [Package[], ReturnType<typeof finding>[]]> = {
    a: [
      [openssl, zlib],
      [finding('CVE-2024-0001', 'CRITICAL', openssl), finding('CVE-2024-0002', 'HIGH', zlib)],
    ],
    b: [
      [openssl, zlib],
      [finding('CVE-2024-0001', 'CRITICAL', openssl), finding('CVE-2024-0002', 'HIGH', zlib)],
    ],
    c: [[busybox], []],
  };
  for (const [label, [packages, findings]] of Object.entries(uploads)) {
    const { image, scan } = await cp.services.scans.ingestReport(
      org,
      report(`registry.test/rematch/${label}:1`, digest(label), packages, findings),
      user,
    );
    images[label] = { imageId: image.id, scanId: scan.id };
  }
  // an organisation whose scanning entitlement was turned off after its scan: left out of every rematch
  const off = (await backends.stores.orgs.createOrg({ slug: 'rematch-off', name: 'Off' })).id;
  await cp.services.scans.ingestReport(
    off,
    report('registry.test/off/x:1', digest('off'), [openssl], []),
    user,
  );
  await backends.stores.orgs.setEntitlements(off, { scanningEnabled: false });
  queue = createInProcessQueue();
  rematch = createRematch({
    db: backends.db,
    analytics: backends.analytics as ClickHouseAnalyticsStore,
    dispatcher: queue,
    dbVersion: () => current,
    batchSize: 3,
    maxDeliveries: 3,
  });
});

afterAll(async () => {
  await rematch?.close();
  await cp?.close();
  await backends?.dispose();
});

/** The raw analytics rows of the rematch scans: which scans hold finding and package rows. */
async function heldRows(): Promise<Record<string, unknown>> {
  const { rows } = await backends.db.query<{ id: string; image_id: string }>(
    `SELECT id, image_id FROM scans WHERE kind = 'rematch'`,
  );
  const driver = (backends.analytics as ClickHouseAnalyticsStore).driver;
  const count = async (table: string) =>
    (
      await driver.query<{ n: string }>(
        `SELECT count() AS n FROM ${table} WHERE scan_id IN {ids:Array(String)}`,
        { ids: rows.map((r) => r.id) },
      )
    ).map((r) => Number(r.n))[0];
  return { findings: await count('findings'), packages: await count('packages') };
}

describe('rematch service', () => {
  let runId: string;
  let batches: string[];
  /** the first run's claim: what a later run must hand out again */
  let firstClaim: Awaited<ReturnType<Rematch['claim']>>;

  it('queues one job per batch of the latest stored scans of entitled organisations, below scheduled', async () => {
    const run = await rematch.start('snapshot');
    expect(run).toMatchObject({ dbVersion: 'db-v2', trigger: 'snapshot', images: 3, batches: 1 });
    runId = run!.id;
    // a snapshot run happens once per version
    expect(await rematch.start('snapshot')).toBeNull();
    const { rows } = await backends.db.query<{ id: string }>(
      'SELECT id FROM rematch_batches WHERE run_id = $1 ORDER BY id',
      [runId],
    );
    batches = rows.map((r) => r.id);
    expect(await queue.pending()).toBe(1);
    expect(await rematch.runStatus(runId)).toMatchObject({
      images: 3,
      batches: 1,
      counts: { queued: 1, running: 0, completed: 0, failed: 0 },
    });
  });

  it('hands out identical inventories once and records one rematch scan per image, idempotently', async () => {
    const [batchId] = batches as [string];
    // the first delivery's worker vanishes after its claim; the redelivery claims attempt 2
    const first = await rematch.claim({ batchId, attempt: 1 });
    const claim = await rematch.claim({ batchId, attempt: 2 });
    expect(claim).toEqual(first);
    firstClaim = claim;
    expect(claim.inventories.map((i) => i.images).sort()).toEqual([1, 2]);
    const shared = claim.inventories.find((i) => i.images === 2)!;
    const single = claim.inventories.find((i) => i.images === 1)!;
    const packages = JSON.parse(shared.packagesJson) as Package[];
    expect(packages.map((p) => p.name).sort()).toEqual(['openssl', 'zlib']);
    const [sslPkg, zlibPkg] = ['openssl', 'zlib'].map((n) => packages.find((p) => p.name === n)!);

    // the new snapshot: CVE-2024-0002 gone, CVE-2099-0001 new
    const results = [
      {
        index: shared.index,
        findings: [wire('CVE-2024-0001', sslPkg!, 'CRITICAL'), wire('CVE-2099-0001', zlibPkg!)],
      },
      { index: single.index, findings: [] },
    ];
    const report = { batchId, attempt: 2, dbVersion: 'db-v2', results };
    // the vanished worker's late report is stale
    expect(await rematch.report(request({ ...report, attempt: 1 }))).toEqual({
      ignored: true,
      scans: 0,
    });
    expect(await rematch.report(request(report))).toEqual({ ignored: false, scans: 3 });
    // the same report again, and a late claim of the finished batch: nothing more
    expect(await rematch.report(request(report))).toEqual({ ignored: true, scans: 0 });
    expect(await rematch.claim({ batchId, attempt: 3 })).toEqual({
      proceed: false,
      dbVersion: 'db-v2',
      inventories: [],
    });

    expect(await rematchScans()).toEqual(
      ['a', 'b', 'c']
        .map((label) => ({
          imageId: images[label]!.imageId,
          status: 'completed',
          priority: 'rematch',
          attempt: 2,
          dbVersion: 'db-v2',
          matched: 'db-v2',
          previous: images[label]!.scanId,
          latest: true,
          critical: label === 'c' ? 0 : 1,
          high: label === 'c' ? 0 : 1,
          packages: label === 'c' ? 1 : 2,
        }))
        .sort((x, y) => x.imageId.localeCompare(y.imageId)),
    );
    expect(await rematch.runStatus(runId)).toMatchObject({
      counts: { queued: 0, running: 0, completed: 1, failed: 0 },
    });

    // what changed, through the scan and the image's findings
    const { rows } = await backends.db.query<{ id: string; image_id: string }>(
      `SELECT id, image_id FROM scans WHERE kind = 'rematch'`,
    );
    const scanOf = (label: string) => rows.find((r) => r.image_id === images[label]!.imageId)!.id;
    expect(await rematch.scanRematch(org, scanOf('a'))).toEqual({
      scanId: scanOf('a'),
      kind: 'rematch',
      dbVersion: 'db-v2',
      previousScanId: images.a!.scanId,
      found: [
        {
          vulnerabilityId: 'CVE-2099-0001',
          packageName: 'zlib',
          installedVersion: '1.3-r0',
          severity: 'HIGH',
        },
      ],
      resolved: [
        {
          vulnerabilityId: 'CVE-2024-0002',
          packageName: 'zlib',
          installedVersion: '1.3-r0',
          severity: 'HIGH',
        },
      ],
    });
    expect(await rematch.scanRematch(org, scanOf('c'))).toMatchObject({ found: [], resolved: [] });
    // the image's latest scan is the rematch
    expect(await rematch.imageRematch(org, images.b!.imageId)).toEqual(
      await rematch.scanRematch(org, scanOf('b')),
    );
    expect(await rematch.scanRematch(org, images.a!.scanId)).toEqual({
      scanId: images.a!.scanId,
      kind: 'scan',
      dbVersion: null,
      previousScanId: null,
      found: [],
      resolved: [],
    });
    // another organisation sees nothing
    const other = (await backends.stores.orgs.createOrg({ slug: 'rematch-other', name: 'Other' })).id;
    expect(await rematch.scanRematch(other, scanOf('a'))).toBeNull();
    for (const label of ['a', 'b']) {
      const page = await backends.analytics.imageFindings(org, images[label]!.imageId);
      expect(page.findings.map((f) => f.id).sort()).toEqual(['CVE-2024-0001', 'CVE-2099-0001']);
    }

    // nothing copied per scan: a and b share one set of finding rows, and no inventory was copied; every reader
    // follows the scans to the rows they point at
    expect(await heldRows()).toEqual({ findings: 2, packages: 0 });
    const cve = await backends.analytics.vulnerableImages(org, 'cve-2099-0001');
    expect({
      images: cve.images.map((i) => ({
        imageId: i.imageId,
        findings: i.findings.map((f) => f.package.name),
      })),
      nextCursor: cve.nextCursor,
    }).toEqual({
      images: [images.a!.imageId, images.b!.imageId]
        .sort()
        .map((imageId) => ({ imageId, findings: ['zlib'] })),
      nextCursor: null,
    });
    for (const label of ['a', 'b']) {
      const diff = await backends.analytics.scanDiff(
        org,
        { scanId: scanOf(label), attempt: 2 },
        { scanId: images[label]!.scanId, attempt: 1 },
      );
      expect({
        counts: [diff.counts.new.total, diff.counts.resolved.total],
        new: diff.new.map((e) => [e.finding.id, e.previousVersion, e.reason]),
        resolved: diff.resolved.map((e) => [e.finding.id, e.installedVersion, e.removed, e.reason]),
      }).toEqual({
        counts: [1, 1],
        new: [['CVE-2099-0001', '1.3-r0', 'database-changed']],
        resolved: [['CVE-2024-0002', '1.3-r0', false, 'database-changed']],
      });
    }
  });

  it('rematches a rematch scan: the inventory and findings it points at are read, the changes are against them', async () => {
    const run = await rematch.start('api');
    const { rows } = await backends.db.query<{ id: string }>(
      'SELECT id FROM rematch_batches WHERE run_id = $1',
      [run!.id],
    );
    const batchId = rows[0]!.id;
    const claim = await rematch.claim({ batchId, attempt: 1 });
    expect(claim).toEqual(firstClaim);
    const shared = claim.inventories.find((i) => i.images === 2)!;
    const single = claim.inventories.find((i) => i.images === 1)!;
    const packages = JSON.parse(shared.packagesJson) as Package[];
    const [sslPkg, zlibPkg] = ['openssl', 'zlib'].map((n) => packages.find((p) => p.name === n)!);
    const results = [
      {
        index: shared.index,
        findings: [wire('CVE-2099-0001', zlibPkg!), wire('CVE-2099-0002', sslPkg!, 'LOW')],
      },
      { index: single.index, findings: [wire('CVE-2099-0003', busybox, 'MEDIUM')] },
    ];
    expect(await rematch.report(request({ batchId, attempt: 1, dbVersion: 'db-v2', results }))).toEqual({
      ignored: false,
      scans: 3,
    });
    const { rows: latest } = await backends.db.query<{ id: string; image_id: string }>(
      `SELECT s.id, s.image_id FROM scans s JOIN images i ON i.last_completed_scan_id = s.id
       WHERE s.kind = 'rematch' AND s.org_id = $1`,
      [org],
    );
    const scanOf = (label: string) => latest.find((r) => r.image_id === images[label]!.imageId)!.id;
    const changes = async (label: string) => {
      const info = (await rematch.scanRematch(org, scanOf(label)))!;
      return {
        found: info.found.map((c) => `${c.vulnerabilityId} ${c.packageName}`),
        resolved: info.resolved.map((c) => `${c.vulnerabilityId} ${c.packageName}`),
      };
    };
    const findings = async (label: string) =>
      (await backends.analytics.imageFindings(org, images[label]!.imageId)).findings.map(
        (f) => `${f.id} ${f.package.name}`,
      );
    expect({
      a: { changes: await changes('a'), findings: await findings('a') },
      b: { changes: await changes('b'), findings: await findings('b') },
      c: { changes: await changes('c'), findings: await findings('c') },
      held: await heldRows(),
    }).toEqual({
      a: {
        changes: { found: ['CVE-2099-0002 openssl'], resolved: ['CVE-2024-0001 openssl'] },
        findings: ['CVE-2099-0001 zlib', 'CVE-2099-0002 openssl'],
      },
      b: {
        changes: { found: ['CVE-2099-0002 openssl'], resolved: ['CVE-2024-0001 openssl'] },
        findings: ['CVE-2099-0001 zlib', 'CVE-2099-0002 openssl'],
      },
      c: { changes: { found: ['CVE-2099-0003 busybox'], resolved: [] }, findings: ['CVE-2099-0003 busybox'] },
      // the first run's 2 rows, then one set per distinct inventory: 2 + 1
      held: { findings: 5, packages: 0 },
    });
  });

  it('refuses malformed claims and reports with coded errors', async () => {
    const run = await rematch.start('api');
    const { rows } = await backends.db.query<{ id: string }>(
      'SELECT id FROM rematch_batches WHERE run_id = $1',
      [run!.id],
    );
    const batchId = rows[0]!.id;
    await expect(rematch.claim({ batchId: 'not-a-uuid', attempt: 1 })).rejects.toMatchObject({
      code: 'CP_NOT_FOUND',
    });
    const claim = await rematch.claim({ batchId, attempt: 1 });
    await expect(
      rematch.report(request({ batchId, attempt: 1, dbVersion: 'db-v2', results: [] })),
    ).rejects.toMatchObject({ code: 'CP_INVALID_ARGUMENT' });
    // the refused report used up its attempt: the redelivery claims the next one
    expect((await rematch.claim({ batchId, attempt: 2 })).inventories).toHaveLength(claim.inventories.length);
    const bad = claim.inventories.map((i) => ({ index: i.index + 10, findings: [] }));
    await expect(
      rematch.report(request({ batchId, attempt: 2, dbVersion: 'db-v2', results: bad })),
    ).rejects.toMatchObject({
      code: 'CP_INVALID_ARGUMENT',
    });
  });

  it('leaves a batch to the next delivery after a retryable failure and records it failed on the last one', async () => {
    const run = await rematch.start('api');
    const { rows } = await backends.db.query<{ id: string }>(
      'SELECT id FROM rematch_batches WHERE run_id = $1',
      [run!.id],
    );
    const batchId = rows[0]!.id;
    const failed = { code: 'ENG_DB_CORRUPT', message: 'snapshot unreadable', retryable: true };
    await rematch.claim({ batchId, attempt: 1 });
    expect(
      await rematch.report(request({ batchId, attempt: 1, dbVersion: 'db-v2', results: [], failed })),
    ).toEqual({
      ignored: false,
      scans: 0,
    });
    expect(
      (await backends.db.query('SELECT status FROM rematch_batches WHERE id = $1', [batchId])).rows,
    ).toEqual([{ status: 'running' }]);
    await rematch.claim({ batchId, attempt: 3 });
    await rematch.report(request({ batchId, attempt: 3, dbVersion: 'db-v2', results: [], failed }));
    const { rows: after } = await backends.db.query(
      'SELECT status, error_code AS "code", error_message AS "message" FROM rematch_batches WHERE id = $1',
      [batchId],
    );
    expect(after).toEqual([{ status: 'failed', code: 'ENG_DB_CORRUPT', message: 'snapshot unreadable' }]);
    expect((await rematch.runStatus(run!.id))!.counts.failed).toBe(1);
  });

  it('drops a batch of an older snapshot once a newer one is current', async () => {
    const run = await rematch.start('api');
    const { rows } = await backends.db.query<{ id: string }>(
      'SELECT id FROM rematch_batches WHERE run_id = $1',
      [run!.id],
    );
    current = 'db-v3';
    try {
      expect(await rematch.claim({ batchId: rows[0]!.id, attempt: 1 })).toEqual({
        proceed: false,
        dbVersion: 'db-v2',
        inventories: [],
      });
    } finally {
      current = 'db-v2';
    }
    const { rows: after } = await backends.db.query(
      'SELECT status, error_code AS "code", error_message AS "message" FROM rematch_batches WHERE id = $1',
      [rows[0]!.id],
    );
    expect(after).toEqual([
      { status: 'failed', code: 'CP_CONFLICT', message: 'superseded by snapshot db-v3' },
    ]);
  });
});
