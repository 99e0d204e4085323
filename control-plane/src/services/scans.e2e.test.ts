/**
 * ScanService on real parts (scratch Postgres, chdb, the in-process queue): requests by id and by reference,
 * dedup per digest and DB version, force and priorities, the entitlement, audit entries, cancellation of queued
 * and running scans, watching a scan from this replica and from another one, and CLI report uploads. Bulk rescans
 * are in scans-bulk.e2e.test.ts.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseAnalyticsStore } from '../analytics/store.js';
import { createInProcessQueue } from '../queue/in-process.js';
import type { CancelMessage } from '../queue/types.js';
import type { ScanEvent } from './api.js';
import {
  completeReport,
  messages,
  openBackends,
  startServices,
  tableResolver,
  wireFinding,
  wirePackage,
  withPublish,
  type Backends,
  type ServiceInstance,
} from './testdata/harness.js';
import { finding, pkg, report } from './testdata/reports.js';

let backends: Backends;
let cp: ServiceInstance;
const user = { type: 'user' as const, id: 'u-1' };
const digest = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;
let orgs = 0;
const newOrg = async (scanningEnabled = true): Promise<string> =>
  (await backends.stores.orgs.createOrg({ slug: `scans-${++orgs}`, name: 'Scans', scanningEnabled })).id;

beforeAll(async () => {
  backends = await openBackends();
  cp = await startServices(backends, {
    resolver: tableResolver({
      'demo:alpine': { repository: 'demo/alpine', digest: digest('demo'), tags: ['3.11'] },
    }),
  });
});
afterAll(async () => {
  await cp?.close();
  await backends?.dispose();
});

const failure = (e: { code?: string }) => e.code;

describe('requestScan', () => {
  it('resolves references, keeps one scan per digest and DB version, raises priority, forces on request', async () => {
    const org = await newOrg();
    const ref = `ghcr.io/acme/api:1.2@${digest('api')}`;
    const first = await cp.services.scans.requestScan(
      org,
      { target: { reference: ref }, priority: 'scheduled' },
      user,
    );
    const byId = await cp.services.scans.requestScan(
      org,
      { target: { imageId: first.image.id }, priority: 'manual' },
      user,
    );
    const forced = await cp.services.scans.requestScan(
      org,
      { target: { imageId: first.image.id }, priority: 'ci', force: true },
      user,
    );
    const local = await cp.services.scans.requestScan(
      org,
      { target: { reference: 'demo:alpine' }, priority: 'ci' },
      user,
    );
    const audit = await backends.stores.audit.listAudit(org);
    expect({
      image: { repository: first.image.repository, digest: first.image.digest, tags: first.image.tags },
      created: [first.created, byId.created, forced.created, local.created],
      sameScan: byId.scan.id === first.scan.id,
      priority: byId.scan.priority,
      forced: { distinct: forced.scan.id !== first.scan.id, forced: forced.scan.forced },
      local: { repository: local.image.repository, tags: local.image.tags },
      lastScanId: byId.image.lastScanId === first.scan.id,
      pending: await cp.dispatcher.pending(),
      audit: audit.items.map((a) => ({ action: a.action, target: a.target, actor: a.actor })),
    }).toEqual({
      image: { repository: 'ghcr.io/acme/api', digest: digest('api'), tags: ['1.2'] },
      created: [true, false, true, true],
      sameScan: true,
      priority: 'manual',
      forced: { distinct: true, forced: true },
      local: { repository: 'demo/alpine', tags: ['3.11'] },
      lastScanId: true,
      pending: expect.any(Number),
      audit: [{ action: 'scan.force', target: { type: 'scan', id: forced.scan.id }, actor: user }],
    });
    expect(
      (await backends.stores.outbox.listUnpublished({ limit: 10 })).filter((s) => s.orgId === org),
    ).toEqual([]);
  });

  it('refuses bad targets and priorities, unresolvable references, foreign images and disabled scanning', async () => {
    const org = await newOrg();
    const off = await newOrg(false);
    const attempts = {
      'both targets': cp.services.scans.requestScan(
        org,
        { target: { imageId: 'x', reference: 'y' } as never, priority: 'ci' },
        user,
      ),
      'no target': cp.services.scans.requestScan(org, { target: {} as never, priority: 'ci' }, user),
      priority: cp.services.scans.requestScan(
        org,
        { target: { reference: 'alpine@' + digest('p') }, priority: 'urgent' as never },
        user,
      ),
      'bad reference': cp.services.scans.requestScan(
        org,
        { target: { reference: 'UPPER/Case:tag' }, priority: 'ci' },
        user,
      ),
      'registry unreachable': cp.services.scans.requestScan(
        org,
        { target: { reference: '127.0.0.1:1/app:latest' }, priority: 'ci' },
        user,
      ),
      'unknown image': cp.services.scans.requestScan(
        org,
        { target: { imageId: '00000000-0000-4000-8000-000000000000' }, priority: 'ci' },
        user,
      ),
      entitlement: cp.services.scans.requestScan(
        off,
        { target: { reference: 'alpine@' + digest('e') }, priority: 'ci' },
        user,
      ),
      'bulk entitlement': cp.services.scans.bulkScan(off, { filter: {}, priority: 'ci' }, user),
      'bulk both': cp.services.scans.bulkScan(org, { imageIds: [], filter: {}, priority: 'ci' }, user),
      'upload entitlement': cp.services.scans.ingestReport(off, {}, user),
    };
    const codes = Object.fromEntries(
      await Promise.all(
        Object.entries(attempts).map(async ([k, p]) => [k, await p.then(() => 'ok', failure)]),
      ),
    );
    expect(codes).toEqual({
      'both targets': 'CP_INVALID_ARGUMENT',
      'no target': 'CP_INVALID_ARGUMENT',
      priority: 'CP_INVALID_ARGUMENT',
      'bad reference': 'CP_IMAGE_UNRESOLVABLE',
      'registry unreachable': 'CP_IMAGE_UNRESOLVABLE',
      'unknown image': 'CP_NOT_FOUND',
      entitlement: 'CP_ENTITLEMENT_DISABLED',
      'bulk entitlement': 'CP_ENTITLEMENT_DISABLED',
      'bulk both': 'CP_INVALID_ARGUMENT',
      'upload entitlement': 'CP_ENTITLEMENT_DISABLED',
    });
  });

  it('keeps the scan queued when the queue is down, and the dispatch loop publishes it later', async () => {
    const org = await newOrg();
    const queue = createInProcessQueue();
    let down = true;
    const flaky = withPublish(queue, async (jobs) => {
      if (down) throw Object.assign(new Error('nats down'), { code: 'CP_QUEUE_UNAVAILABLE' });
      return queue.publish(jobs);
    });
    const instance = await startServices(backends, { dispatcher: flaky, dispatch: { intervalMs: 60_000 } });
    const { scan } = await instance.services.scans.requestScan(
      org,
      { target: { reference: `x/y@${digest('flaky')}` }, priority: 'ci' },
      user,
    );
    const before = (await backends.stores.outbox.listUnpublished({ limit: 1000 })).some(
      (s) => s.id === scan.id,
    );
    down = false;
    await instance.services.dispatchLoop.start();
    const after = (await backends.stores.outbox.listUnpublished({ limit: 1000 })).some(
      (s) => s.id === scan.id,
    );
    await instance.close();
    expect({ status: scan.status, before, after, pending: await queue.pending() }).toEqual({
      status: 'queued',
      before: true,
      after: false,
      pending: 1,
    });
    await queue.close();
  });
});

describe('cancelScan', () => {
  it('cancels queued scans quietly and running ones with a cancel message; finished scans refuse', async () => {
    const org = await newOrg();
    const source = cp.queue!.source();
    const heard: CancelMessage[] = [];
    source.onCancel((m) => heard.push(m));
    const request = async (label: string) =>
      (
        await cp.services.scans.requestScan(
          org,
          { target: { reference: `a/b@${digest(label)}` }, priority: 'ci' },
          user,
        )
      ).scan;
    const queued = await request('cq');
    const running = await request('cr');
    await cp.worker.claimJob({ scanId: running.id, attempt: 1 }, { metadata: cp.metadata });
    const a = await cp.services.scans.cancelScan(org, queued.id, user);
    const b = await cp.services.scans.cancelScan(org, running.id, user);
    const again = await cp.services.scans.cancelScan(org, running.id, user);
    const claimAfter = await cp.worker.claimJob({ scanId: queued.id, attempt: 1 }, { metadata: cp.metadata });
    await source.close();
    const audit = await backends.stores.audit.listAudit(org, { action: 'scan.cancel' });
    expect({
      statuses: [a.status, b.status, again.status],
      heard: heard.map((m) => ({ scanId: m.scanId, orgId: m.orgId })),
      claimAfter: claimAfter.proceed,
      audit: audit.items.map((e) => e.details).reverse(),
    }).toEqual({
      statuses: ['cancelled', 'cancelled', 'cancelled'],
      heard: [{ scanId: running.id, orgId: org }],
      claimAfter: false,
      audit: [{ previousStatus: 'queued' }, { previousStatus: 'running' }],
    });
  });
});

async function collect(iterable: AsyncIterable<ScanEvent>): Promise<string[]> {
  const seen: string[] = [];
  for await (const e of iterable)
    seen.push(
      e.type === 'status'
        ? `status:${e.scan.status}#${e.scan.attempt}`
        : `progress:${e.stage}:${e.done}/${e.total}`,
    );
  return seen;
}

describe('watchScan', () => {
  it('streams status and progress on this replica and the status changes on another one (by polling)', async () => {
    const org = await newOrg();
    const other = await startServices(backends); // another control-plane replica: its own event bus
    const { scan } = await cp.services.scans.requestScan(
      org,
      { target: { reference: `w/x@${digest('watch')}` }, priority: 'manual' },
      user,
    );
    const here = collect(cp.services.scans.watchScan(org, scan.id, new AbortController().signal));
    const there = collect(other.services.scans.watchScan(org, scan.id, new AbortController().signal));
    await new Promise((r) => setTimeout(r, 50));
    await cp.worker.claimJob({ scanId: scan.id, attempt: 1 }, { metadata: cp.metadata });
    await new Promise((r) => setTimeout(r, 250)); // let the other replica's poll see `running`
    await cp.worker.report(
      messages(
        scan.id,
        1,
        completeReport([wirePackage('a')], [wireFinding('CVE-1', 'LOW', wirePackage('a'))]),
      ),
      {
        metadata: cp.metadata,
      },
    );
    const aborted = new AbortController();
    const watching = collect(cp.services.scans.watchScan(org, scan.id, aborted.signal));
    const result = { here: await here, there: await there, finished: await watching };
    const unknown = await collect(
      cp.services.scans.watchScan(org, '00000000-0000-4000-8000-000000000000', aborted.signal),
    ).catch(failure);
    await other.close();
    expect({ ...result, unknown }).toEqual({
      here: ['status:queued#0', 'status:running#1', 'progress:analyze:1/2', 'status:completed#1'],
      there: ['status:queued#0', 'status:running#1', 'status:completed#1'],
      finished: ['status:completed#1'],
      unknown: 'CP_NOT_FOUND',
    });
  });

  it('ends when the signal aborts', async () => {
    const org = await newOrg();
    const { scan } = await cp.services.scans.requestScan(
      org,
      { target: { reference: `w/y@${digest('abort')}` }, priority: 'manual' },
      user,
    );
    const controller = new AbortController();
    const seen = collect(cp.services.scans.watchScan(org, scan.id, controller.signal));
    setTimeout(() => controller.abort(), 150);
    expect(await seen).toEqual(['status:queued#0']);
  });
});

describe('ingestReport', () => {
  it('records an upload as a completed scan of the image it names; the same upload again replaces, never adds, and writes no rows', async () => {
    const org = await newOrg();
    const openssl = pkg('openssl', '3.1.4-r0');
    const upload = report(
      'ghcr.io/acme/web:5.1',
      digest('upload'),
      [openssl],
      [finding('CVE-2024-0001', 'HIGH', openssl), finding('CVE-2024-0002', 'LOW', openssl, '3.1.5-r0')],
    );
    const first = await cp.services.scans.ingestReport(org, upload, user);
    const second = await cp.services.scans.ingestReport(org, JSON.parse(JSON.stringify(upload)), user);
    const refused = await cp.services.scans
      .ingestReport(org, { ...upload, schemaVersion: 2 }, user)
      .catch(failure);
    const images = await cp.services.queries.listImages(org);
    // the same rows uploaded again for the same digest: stored once, shown by both scans
    const rows = await (backends.analytics as ClickHouseAnalyticsStore).driver.query(
      `SELECT scan_id, toUInt32(count()) AS n FROM findings WHERE org_id = {org:String} GROUP BY scan_id`,
      { org },
    );
    expect({
      scan: {
        status: first.scan.status,
        attempt: first.scan.attempt,
        dbVersion: first.scan.dbVersion,
        priority: first.scan.priority,
        error: first.scan.error,
      },
      image: { repository: first.image.repository, tags: first.image.tags, digest: first.image.digest },
      secondIsLatest: second.image.summary?.scanId === second.scan.id && second.scan.id !== first.scan.id,
      counts: second.image.summary?.counts,
      findings: (await cp.services.queries.imageFindings(org, second.image.id)).findings.map((f) => f.id),
      rows,
      refused,
      images: images.items.length,
      audit: (await backends.stores.audit.listAudit(org, { action: 'report.upload' })).items.length,
    }).toEqual({
      scan: { status: 'completed', attempt: 1, dbVersion: 'db-upload-1', priority: 'ci', error: null },
      image: { repository: 'ghcr.io/acme/web', tags: ['5.1'], digest: digest('upload') },
      secondIsLatest: true,
      counts: { critical: 0, high: 1, medium: 0, low: 1, unknown: 0, total: 2 },
      findings: ['CVE-2024-0001', 'CVE-2024-0002'],
      rows: [{ scan_id: first.scan.id, n: 2 }],
      refused: 'CP_REPORT_INVALID',
      images: 1,
      audit: 2,
    });
  });
});
