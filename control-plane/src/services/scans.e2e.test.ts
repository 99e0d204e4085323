/**
 * ScanService on real parts (scratch Postgres, chdb, the in-process queue): requests by id and by reference,
 * dedup per digest and DB version, force and priorities, the entitlement, audit entries, cancellation of queued
 * and running scans, a bulk rescan of 10,000 images by filter (one insert, chunked publish; timed), cancelling a
 * queued batch, and watching a scan from this replica and from another one.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { UNPUBLISHED_SCAN } from '../store/postgres/scan-outbox.js';
import { batchLockWaiter } from '../store/postgres/testdata/batch-lock.js';

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

/** Inserts `count` images of one repository in one statement (seeding; the service paths are what is tested). */
async function seedImages(org: string, repository: string, count: number): Promise<void> {
  await backends.db.query(
    `WITH repo AS (INSERT INTO repositories (org_id, name) VALUES ($1, $2) RETURNING id)
     INSERT INTO images (org_id, repository_id, name, digest)
     SELECT $1, repo.id, $2, 'sha256:' || encode(sha256(convert_to($2 || '-' || g, 'UTF8')), 'hex')
     FROM repo, generate_series(1, $3::integer) g`,
    [org, repository, count],
  );
}

describe('bulkScan', () => {
  it('rescans 10,000 images matching a filter: one batch, one insert, every job published once, with the insert', async () => {
    const org = await newOrg();
    await seedImages(org, 'fleet/bulk', 10_000);
    await seedImages(org, 'fleet/other', 5);
    const queue = createInProcessQueue();
    let publishCalls = 0;
    const counting = withPublish(queue, (jobs) => {
      publishCalls++;
      return queue.publish(jobs);
    });
    const instance = await startServices(backends, { dispatcher: counting });
    const started = performance.now();
    const batch = await instance.services.scans.bulkScan(
      org,
      { filter: { text: 'fleet/bulk' }, priority: 'scheduled' },
      user,
    );
    const elapsedMs = performance.now() - started;
    const jobs = (await backends.stores.scans.listQueuedScans(org, batch.id, { limit: 10_000 })).length;
    const { rows } = await backends.db.query<{ published: string; unpublished: string; publishedAt: string }>(
      // the batch's mark records the publication (0007), not each scan's published_at
      `SELECT count(*) FILTER (WHERE NOT (${UNPUBLISHED_SCAN})) AS published, count(*) FILTER (WHERE ${UNPUBLISHED_SCAN}) AS unpublished,
         count(*) FILTER (WHERE s.published_at IS NOT NULL) AS "publishedAt"
       FROM scans s WHERE s.org_id = $1 AND s.batch_id = $2`,
      [org, batch.id],
    );
    // reported, not asserted (timings are not test outcomes); docs/performance.md has the bench
    process.stderr.write(
      `bulkScan of 10,000 images by filter, in-process queue: ${elapsedMs.toFixed(0)} ms\n`,
    );
    await instance.close();
    const audit = await backends.stores.audit.listAudit(org, { action: 'batch.create' });
    expect({
      batch: { requested: batch.requested, matched: batch.matched, total: batch.total, counts: batch.counts },
      jobs,
      publishCalls,
      pending: await queue.pending(),
      outbox: rows[0],
      audit: audit.items.map((e) => e.details),
    }).toEqual({
      batch: {
        requested: 10_000,
        matched: 10_000,
        total: 10_000,
        counts: { queued: 10_000, running: 0, completed: 0, failed: 0, cancelled: 0 },
      },
      jobs: 10_000,
      publishCalls: 1,
      pending: 10_000,
      outbox: { published: '10000', unpublished: '0', publishedAt: '0' },
      audit: [
        { requested: 10_000, matched: 10_000, total: 10_000, forced: false, filter: { text: 'fleet/bulk' } },
      ],
    });
    await queue.close();
  });

  it('an early publish slower than its limit lets the batch commit unmarked; the scans are sent again, each stored once', async () => {
    const org = await newOrg();
    await seedImages(org, 'fleet/slow', 30);
    const queue = createInProcessQueue();
    const calls: number[] = [];
    // the queue answers the first publish (the one beside the insert) only after the limit has passed
    const slowFirst = withPublish(queue, async (jobs) => {
      calls.push(jobs.length);
      if (calls.length === 1) await new Promise((resolve) => setTimeout(resolve, 300));
      return queue.publish(jobs);
    });
    const instance = await startServices(backends, { dispatcher: slowFirst, dispatch: { earlyLimitMs: 50 } });
    const batch = await instance.services.scans.bulkScan(
      org,
      { filter: { text: 'fleet/slow' }, priority: 'ci' },
      user,
    );
    await new Promise((resolve) => setTimeout(resolve, 400)); // the late publish lands meanwhile
    const { rows } = await backends.db.query(
      `SELECT (SELECT published_through FROM batches WHERE org_id = $1 AND id = $2) AS mark,
              (SELECT count(*)::int FROM scans s WHERE s.org_id = $1 AND s.batch_id = $2 AND ${UNPUBLISHED_SCAN}) AS unpublished`,
      [org, batch.id],
    );
    await instance.close();
    expect({ total: batch.total, calls, pending: await queue.pending(), ...rows[0] }).toEqual({
      total: 30,
      // the early publish, then the batch's one page
      calls: [30, 30],
      // the late copies are dropped by scan id
      pending: 30,
      mark: expect.any(String),
      unpublished: 0,
    });
    await queue.close();
  });

  it("a worker's claim that arrives before its batch commits waits for the commit and proceeds", async () => {
    const org = await newOrg();
    await seedImages(org, 'fleet/early', 40);
    const queue = createInProcessQueue();
    let claim: Promise<{ proceed: boolean }> | undefined;
    const claimingFirst = withPublish(queue, async (jobs) => {
      // a worker takes the first job at once: its claim reaches the control plane before the insert commits
      claim ??= instance.worker.claimJob(
        { scanId: jobs[0]!.scanId, attempt: 1 },
        { metadata: instance.metadata },
      );
      await batchLockWaiter(backends.db);
      return queue.publish(jobs);
    });
    const instance = await startServices(backends, { dispatcher: claimingFirst });
    const batch = await instance.services.scans.bulkScan(
      org,
      { filter: { text: 'fleet/early' }, priority: 'ci' },
      user,
    );
    const claimed = await claim!;
    const { rows } = await backends.db.query(
      `SELECT count(*) FILTER (WHERE status = 'running')::int AS running, count(*) FILTER (WHERE ${UNPUBLISHED_SCAN})::int AS unpublished
       FROM scans s WHERE s.org_id = $1 AND s.batch_id = $2`,
      [org, batch.id],
    );
    await instance.close();
    expect({
      total: batch.total,
      proceed: claimed.proceed,
      pending: await queue.pending(),
      scans: rows[0],
    }).toEqual({
      total: 40,
      proceed: true,
      pending: 40,
      scans: { running: 1, unpublished: 0 },
    });
    await queue.close();
  });

  it('cancels a queued batch: every scan cancelled, no cancel message (no worker has them), claims dropped', async () => {
    const org = await newOrg();
    await seedImages(org, 'fleet/cancel', 50);
    const heard: CancelMessage[] = [];
    const source = cp.queue!.source();
    source.onCancel((m) => heard.push(m));
    const batch = await cp.services.scans.bulkScan(
      org,
      { filter: { repositoryId: undefined, text: 'fleet/cancel' }, priority: 'ci' },
      user,
    );
    const [one] = await backends.stores.scans.listQueuedScans(org, batch.id, { limit: 1 });
    const cancelled = await cp.services.scans.cancelBatch(org, batch.id, user);
    const claim = await cp.worker.claimJob({ scanId: one!.id, attempt: 1 }, { metadata: cp.metadata });
    await source.close();
    expect({
      counts: cancelled.counts,
      cancelledAt: cancelled.cancelledAt instanceof Date,
      heard,
      claim: claim.proceed,
      audit: (await backends.stores.audit.listAudit(org, { action: 'batch.cancel' })).items.map(
        (e) => e.details,
      ),
    }).toEqual({
      counts: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 50 },
      cancelledAt: true,
      heard: [],
      claim: false,
      audit: [{ cancelled: 50 }],
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
  it('records an upload as a completed scan of the image it names; the same upload again replaces, never adds', async () => {
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
      refused,
      images: images.items.length,
      audit: (await backends.stores.audit.listAudit(org, { action: 'report.upload' })).items.length,
    }).toEqual({
      scan: { status: 'completed', attempt: 1, dbVersion: 'db-upload-1', priority: 'ci', error: null },
      image: { repository: 'ghcr.io/acme/web', tags: ['5.1'], digest: digest('upload') },
      secondIsLatest: true,
      counts: { critical: 0, high: 1, medium: 0, low: 1, unknown: 0, total: 2 },
      refused: 'CP_REPORT_INVALID',
      images: 1,
      audit: 2,
    });
  });
});
