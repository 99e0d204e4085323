/**
 * Fleet scenarios of failure and cancellation, all real processes (test/harness/fleet.ts): `vigil control-plane`
 * on a scratch Postgres database, chdb and the shared NATS (a stream of its own), `vigil worker` processes, and
 * images pulled from a local docker-registry through a throttling proxy that holds downloads halfway on cue, so a
 * scan is surely running when the test acts.
 *
 * 1. `kill -9` of a worker holding a scan: JetStream redelivers the job (attempt 2) to another worker once the
 *    ack deadline passes; every scan completes exactly once, with the reference findings and no duplicate rows.
 * 2. Cancel of a running scan: the scan ends `cancelled` and the worker aborts it (the time from the API call to
 *    the worker's cancelled report is printed, not asserted) and goes on with the next job.
 * 3. Cancel of a queued batch with no worker running: every scan of the batch is cancelled, and workers started
 *    afterwards drop the jobs on dequeue without scanning anything.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  analyticsFindingRows,
  baseReferences,
  imageFindings,
  requestScans,
  scanRows,
  waitForScans,
  type RequestedScan,
} from '../../harness/fleet-checks.js';
import {
  startFleet,
  waitFor,
  waitForCompletionLines,
  type Fleet,
  type WorkerProcess,
} from '../../harness/fleet.js';

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ images: 16, repositories: 2 });
});

afterEach(async () => {
  fleet?.proxy.release();
  await fleet?.stopWorkers();
});

afterAll(async () => {
  await fleet?.close();
});

/** The scans a worker started, with their attempts, as `<scan id>#<attempt>`. */
function starts(worker: WorkerProcess): string[] {
  return worker.events.filter((e) => e.msg === 'scan start').map((e) => `${e.scanId}#${e.attempt}`);
}

describe('fleet faults and cancellation', () => {
  it('redelivers the job of a worker killed mid-scan to another worker; every scan completes exactly once', async () => {
    const workers = await Promise.all([1, 2, 3].map(() => fleet.startWorker()));
    const reference = await baseReferences(fleet.images, fleet.dbPath, fleet.proxy.host);
    fleet.proxy.hold();
    const scans = await requestScans(fleet.api, fleet.images.slice(0, 9));
    // every worker is mid-download of its first job
    await waitFor('each worker to hold a scan', async () =>
      workers.every((w) => starts(w).length > 0) && fleet.proxy.waiting >= 3 ? true : undefined,
    );
    const [victim, ...survivors] = workers as [WorkerProcess, ...WorkerProcess[]];
    const victimScan = victim.events.find((e) => e.msg === 'scan start')!.scanId!;
    const before = (await fleet.api.call('GET', `/api/v1/scans/${victimScan}`)).body as {
      status: string;
      attempt: number;
    };
    const killedAt = performance.now();
    const victimExit = await victim.kill();
    fleet.proxy.release();

    const rows = await waitForScans(
      fleet.db,
      scans.map((s) => s.scanId),
    );
    const retried = await Promise.race(
      survivors.map((w) => w.waitFor('the retry', (e) => e.msg === 'scan start' && e.scanId === victimScan)),
    );
    console.log(
      `killed worker's scan restarted as attempt 2 after ${((retried.at - killedAt) / 1000).toFixed(1)} s`,
    );

    const completedOnce = await waitForCompletionLines(
      survivors,
      scans.map((s) => s.scanId),
    );
    const rowsOf = (s: RequestedScan) => ({
      rows: reference[s.image.base].length,
      distinct: reference[s.image.base].length,
    });
    const victimRequest = scans.find((s) => s.scanId === victimScan)!;
    const others = scans.filter((s) => s.scanId !== victimScan);
    await fleet.controlPlane.stop();
    const analytics = await analyticsFindingRows(join(fleet.dir, 'control-plane', 'clickhouse'));
    await fleet.controlPlane.start();
    const findings = await Promise.all(scans.map((s) => imageFindings(fleet.api, s.imageId)));
    expect({
      before: { status: before.status, attempt: before.attempt },
      victimExit,
      statuses: rows.map((r) => `${r.status} attempt ${r.attempt} error ${r.errorCode}`),
      retriedBy: survivors.filter((w) => starts(w).includes(`${victimScan}#2`)).length,
      completedOnce,
      victimCompleted: victim.scans('scan completed'),
      findingsAsReference: findings.map(
        (f, i) => JSON.stringify(f) === JSON.stringify(reference[scans[i]!.image.base]),
      ),
      analyticsRows: {
        victimAttempt1: analytics.get(`${victimScan}:1`) ?? null,
        victimAttempt2: analytics.get(`${victimScan}:2`),
        others: others.map((s) => analytics.get(`${s.scanId}:1`)),
      },
    }).toEqual({
      before: { status: 'running', attempt: 1 },
      victimExit: -1,
      statuses: scans.map((s) => `completed attempt ${s.scanId === victimScan ? 2 : 1} error null`),
      retriedBy: 1,
      completedOnce: scans.map(() => 1),
      victimCompleted: [],
      findingsAsReference: scans.map(() => true),
      analyticsRows: {
        victimAttempt1: null,
        victimAttempt2: rowsOf(victimRequest),
        others: others.map(rowsOf),
      },
    });
  }, 300_000);

  it('cancels a running scan: the worker aborts it and takes the next job', async () => {
    const worker = await fleet.startWorker();
    fleet.proxy.hold();
    const [scan] = await requestScans(fleet.api, [fleet.images[9]!]);
    await worker.waitFor('the scan to start', (e) => e.msg === 'scan start' && e.scanId === scan!.scanId);
    await waitFor('the download to be held', async () => (fleet.proxy.waiting > 0 ? true : undefined));
    const running = (await fleet.api.call('GET', `/api/v1/scans/${scan!.scanId}`)).body as { status: string };
    const asked = performance.now();
    const cancel = await fleet.api.call('POST', `/api/v1/scans/${scan!.scanId}/cancel`);
    const stopped = await worker.waitFor('the cancelled report', (e) => {
      return e.msg === 'scan cancelled' && e.scanId === scan!.scanId;
    });
    console.log(`cancel → worker stopped the scan: ${Math.round(stopped.at - asked)} ms`);
    fleet.proxy.release();
    const [next] = await requestScans(fleet.api, [fleet.images[10]!]);
    const [nextRow] = await waitForScans(fleet.db, [next!.scanId]);
    await waitForCompletionLines([worker], [next!.scanId]);
    const final = (await fleet.api.call('GET', `/api/v1/scans/${scan!.scanId}`)).body as {
      status: string;
      finishedAt: string | null;
    };
    const image = (await fleet.api.call('GET', `/api/v1/images/${scan!.imageId}`)).body as {
      lastCompletedScanId: string | null;
    };
    expect({
      running: running.status,
      cancel: { status: cancel.status, scan: (cancel.body as { status: string }).status },
      final: { status: final.status, finished: final.finishedAt !== null },
      workerCompleted: worker.scans('scan completed'),
      imageLastCompleted: image.lastCompletedScanId,
      workerAlive: worker.running,
      next: nextRow!.status,
    }).toEqual({
      running: 'running',
      cancel: { status: 200, scan: 'cancelled' },
      final: { status: 'cancelled', finished: true },
      workerCompleted: [next!.scanId],
      imageLastCompleted: null,
      workerAlive: true,
      next: 'completed',
    });
  }, 300_000);

  it('cancels a queued batch: workers started afterwards drop its jobs without scanning', async () => {
    const images = fleet.images.slice(11, 16);
    const warmup = await fleet.startWorker({ concurrency: 2 });
    const firstScans = await requestScans(fleet.api, images);
    await waitForScans(
      fleet.db,
      firstScans.map((s) => s.scanId),
    );
    expect(await warmup.stop()).toBe(0); // no worker runs while the batch is queued and cancelled

    const bulk = await fleet.api.call('POST', '/api/v1/scans/bulk', {
      imageIds: firstScans.map((s) => s.imageId),
    });
    const batchId = (bulk.body as { id: string }).id;
    const cancel = await fleet.api.call('POST', `/api/v1/scans/bulk/${batchId}/cancel`);
    const batchScans = (await scanRows(fleet.db)).filter((r) => r.batchId === batchId).map((r) => r.id);
    const workers = await Promise.all([1, 2].map(() => fleet.startWorker()));
    await waitFor('every job of the batch to be dropped', async () => {
      const dropped = new Set(workers.flatMap((w) => w.scans('job dropped by control plane')));
      return batchScans.every((id) => dropped.has(id)) ? true : undefined;
    });
    const batch = (await fleet.api.call('GET', `/api/v1/scans/bulk/${batchId}`)).body as {
      total: number;
      counts: Record<string, number>;
    };
    const scanStatuses = await Promise.all(
      batchScans.map(
        async (id) =>
          ((await fleet.api.call('GET', `/api/v1/scans/${id}`)).body as { status: string }).status,
      ),
    );
    const imagesNow = await Promise.all(
      firstScans.map(
        async (s) =>
          (
            (await fleet.api.call('GET', `/api/v1/images/${s.imageId}`)).body as {
              lastCompletedScanId: string;
            }
          ).lastCompletedScanId,
      ),
    );
    expect({
      bulk: bulk.status,
      cancel: { status: cancel.status, counts: (cancel.body as { counts: unknown }).counts },
      batch,
      scanStatuses,
      scanned: workers.flatMap((w) => w.events.filter((e) => e.msg === 'scan start').map((e) => e.scanId)),
      latestCompletedUnchanged: imagesNow,
    }).toEqual({
      bulk: 202,
      cancel: {
        status: 200,
        counts: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: images.length },
      },
      batch: {
        ...batch,
        total: images.length,
        counts: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: images.length },
      },
      scanStatuses: images.map(() => 'cancelled'),
      scanned: [],
      latestCompletedUnchanged: firstScans.map((s) => s.scanId),
    });
  }, 300_000);
});
