/**
 * Fleet scenarios at scale, all real processes (test/harness/fleet.ts): `vigil control-plane` on a scratch Postgres
 * database, chdb in its data dir and the shared NATS (a stream of its own), three `vigil worker` processes, 200
 * small distinct images (5 repositories, two Alpine bases) in a local docker-registry.
 *
 * 1. The three workers scan the 200 images: every scan completes exactly once, each image's findings equal the
 *    single-process reference (`vigil image` of an image on the same base), and the raw analytics rows hold
 *    each finding once.
 * 2. A bulk rescan of one repository's 40 images while the control plane is killed (SIGKILL) mid-batch and
 *    started again on the same Postgres, chdb directory and NATS stream: nothing is lost, every scan of the batch
 *    completes and the batch's progress reaches its total.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  type FleetImage,
  type WorkerProcess,
} from '../../harness/fleet.js';

const IMAGES = 200;
const REPOSITORIES = 5;
const FINISHED = { queued: 0, running: 0, failed: 0, cancelled: 0 };

let fleet: Fleet;
let workers: WorkerProcess[];
/** sorted finding keys of the single-process scan, by base image */
let reference: Record<FleetImage['base'], string[]>;
/** the first test's scans, one per image */
let first: RequestedScan[] = [];

beforeAll(async () => {
  fleet = await startFleet({ images: IMAGES, repositories: REPOSITORIES });
  [workers, reference] = await Promise.all([
    Promise.all([1, 2, 3].map(() => fleet.startWorker({ concurrency: 2 }))),
    baseReferences(fleet.images, fleet.dbPath, fleet.proxy.host),
  ]);
});

afterAll(async () => {
  await fleet?.close();
});

/** How often each value occurs: `{ 1: 200 }` = the value 1, 200 times. */
function countBy(values: Iterable<string | number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** How many times each listed scan was reported completed by any worker, as a histogram (once every one was). */
async function completionsPerScan(scanIds: readonly string[]): Promise<Record<string, number>> {
  return countBy(await waitForCompletionLines(workers, scanIds));
}

/** Images whose findings through the API differ from the reference of their base (expected: none). */
async function findingMismatches(scans: readonly RequestedScan[]): Promise<string[]> {
  const wrong: string[] = [];
  for (const s of scans) {
    const got = await imageFindings(fleet.api, s.imageId);
    if (JSON.stringify(got) !== JSON.stringify(reference[s.image.base])) wrong.push(s.image.reference);
  }
  return wrong;
}

/**
 * Stops the control plane (gracefully), reads the raw analytics rows of the given scans' completed attempts,
 * starts it again. Problems: attempts whose rows are not exactly their base's findings, each once.
 */
async function analyticsProblems(
  scans: ReadonlyArray<{ scanId: string; attempt: number; image: FleetImage }>,
): Promise<{ controlPlaneExit: number | null; problems: string[] }> {
  const controlPlaneExit = await fleet.controlPlane.stop();
  const rows = await analyticsFindingRows(join(fleet.dir, 'control-plane', 'clickhouse'));
  await fleet.controlPlane.start();
  const problems = scans.flatMap(({ scanId, attempt, image }) => {
    const want = reference[image.base].length;
    const got = rows.get(`${scanId}:${attempt}`) ?? { rows: 0, distinct: 0 };
    return got.rows === want && got.distinct === want
      ? []
      : [`${scanId}:${attempt} has ${got.rows} rows, ${got.distinct} distinct, expected ${want}`];
  });
  return { controlPlaneExit, problems };
}

describe('fleet at scale: 3 worker processes, 200 images', () => {
  it('scans every image exactly once, with the findings of the single-process reference and no duplicate rows', async () => {
    const started = performance.now();
    first = await requestScans(fleet.api, fleet.images);
    const rows = await waitForScans(
      fleet.db,
      first.map((s) => s.scanId),
    );
    const completions = await completionsPerScan(first.map((s) => s.scanId));
    const perWorker = workers.map((w) => w.scans('scan completed').length);
    console.log(
      `${IMAGES} scans by 3 workers: ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `completed per worker: ${perWorker.join(', ')}`,
    );

    expect({
      referenceFindings: { '3.10': reference['3.10'].length > 0, '3.11': reference['3.11'].length > 0 },
      statuses: [...new Set(rows.map((r) => `${r.status}, attempt ${r.attempt}, error ${r.errorCode}`))],
      scansInTable: (await scanRows(fleet.db)).length,
      completionsPerScan: completions,
      everyWorkerScanned: perWorker.map((n) => n > 0),
      findingMismatches: await findingMismatches(first),
      analytics: await analyticsProblems(first.map((s) => ({ ...s, attempt: 1 }))),
    }).toEqual({
      referenceFindings: { '3.10': true, '3.11': true },
      statuses: ['completed, attempt 1, error null'],
      scansInTable: IMAGES,
      completionsPerScan: { 1: IMAGES },
      everyWorkerScanned: [true, true, true],
      findingMismatches: [],
      analytics: { controlPlaneExit: 0, problems: [] },
    });
  });

  it('loses nothing of a bulk rescan when the control plane is killed mid-batch and started again', async () => {
    const subset = first.filter((s) => s.image.repository === 'fleet/svc-0');
    expect(subset).toHaveLength(IMAGES / REPOSITORIES); // the images scanned by the previous test
    // a slower registry keeps the batch in flight while the control plane dies
    fleet.proxy.delayMs = 100;
    const bulk = await fleet.api.call('POST', '/api/v1/scans/bulk', {
      imageIds: subset.map((s) => s.imageId),
    });
    const batch = bulk.body as { id: string; total: number };
    await waitFor('the batch to be under way', async () => {
      const res = await fleet.api.call('GET', `/api/v1/scans/bulk/${batch.id}`);
      return (res.body as { counts: { completed: number } }).counts.completed > 0 ? true : undefined;
    });
    const killedAt = performance.now();
    await fleet.controlPlane.kill();
    const atKill = countBy(
      (await scanRows(fleet.db)).filter((r) => r.batchId === batch.id).map((r) => r.status),
    );
    fleet.proxy.delayMs = 0;
    await fleet.controlPlane.start();
    const downSeconds = (performance.now() - killedAt) / 1000;

    const batchScans = (await scanRows(fleet.db)).filter((r) => r.batchId === batch.id);
    const rows = await waitForScans(
      fleet.db,
      batchScans.map((r) => r.id),
    );
    const progress = await waitFor('the batch progress to reach its total', async () => {
      const res = await fleet.api.call('GET', `/api/v1/scans/bulk/${batch.id}`);
      const body = res.body as { total: number; counts: Record<string, number> };
      return body.counts.completed === body.total ? body : undefined;
    });
    console.log(
      `control plane down ${downSeconds.toFixed(1)} s, killed with the batch at ${JSON.stringify(atKill)}; ` +
        `attempts of the batch's scans: ${JSON.stringify(countBy(rows.map((r) => r.attempt)))}`,
    );

    const images = (await fleet.api.call('GET', '/api/v1/images?limit=1000')).body as {
      items: Array<{ id: string; lastCompletedScanId: string }>;
    };
    const batchScanOf = new Map(rows.map((r) => [r.imageId, r.id]));
    const imageOf = new Map(subset.map((s) => [s.imageId, s.image]));
    expect({
      bulk: bulk.status,
      total: batch.total,
      killedMidBatch: (atKill.completed ?? 0) < subset.length,
      statuses: [...new Set(rows.map((r) => `${r.status}, error ${r.errorCode}`))],
      progress: { total: progress.total, counts: progress.counts },
      latestIsTheBatchScan: images.items.filter((i) => batchScanOf.get(i.id) === i.lastCompletedScanId)
        .length,
      scansCompletedTwice: Object.keys(await completionsPerScan(rows.map((r) => r.id))).filter(
        (n) => Number(n) > 1,
      ),
      findingMismatches: await findingMismatches(subset),
      analytics: await analyticsProblems(
        rows.map((r) => ({ scanId: r.id, attempt: r.attempt, image: imageOf.get(r.imageId)! })),
      ),
    }).toEqual({
      bulk: 202,
      total: subset.length,
      killedMidBatch: true,
      statuses: ['completed, error null'],
      progress: { total: subset.length, counts: { ...FINISHED, completed: subset.length } },
      latestIsTheBatchScan: subset.length,
      scansCompletedTwice: [],
      findingMismatches: [],
      analytics: { controlPlaneExit: 0, problems: [] },
    });
  });
});
