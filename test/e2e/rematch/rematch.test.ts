/**
 * Rematch scenarios (issue #6 item 3) with real parts (test/harness/fleet.ts): `vigil control-plane` on a scratch
 * Postgres, chdb in its data dir, the shared NATS (a stream of its own), two `vigil worker` processes that follow the
 * control plane's snapshot, 12 small registry images on two Alpine bases. Rematch batches hold one image each
 * (VIGIL_REMATCH_BATCH_SIZE=1), so a run is 12 jobs on the queue.
 *
 * 1. A rematch started over the API (POST /db/rematch) while a user scan is requested right after it: the user scan
 *    starts before the rematch finishes (it is taken ahead of the waiting rematch batches), and every image gets a
 *    completed rematch scan of its own.
 * 2. The registry is stopped, then a snapshot with one more advisory (CVE-2099-0001 in apk-tools, Alpine 3.10) and
 *    one advisory less (CVE-2021-36159, apk-tools) is uploaded: the new snapshot starts a rematch by itself, every
 *    3.10 image gets a rematch scan with the new finding marked found by re-evaluation with the new DB version and
 *    the removed one resolved; the image's findings and summary show the new state; 3.11 images change nothing.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageFindings, requestScans, waitForScans, type RequestedScan } from '../../harness/fleet-checks.js';
import { startFleet, waitFor, type Fleet } from '../../harness/fleet.js';
import { runVigil } from '../../support/cli.js';
import { realdata } from '../../support/realdata.js';

const IMAGES = 12;

let fleet: Fleet;
let scans: RequestedScan[] = [];
let work: string;

interface RematchScanRow {
  id: string;
  imageId: string;
  status: string;
  dbVersion: string;
  matchedDbVersion: string;
  previousScanId: string;
  priority: string;
}

/** The completed rematch scans of a snapshot version, by image id. */
async function rematchScans(dbVersion: string): Promise<Map<string, RematchScanRow>> {
  const { rows } = await fleet.db.query<RematchScanRow>(
    `SELECT id, image_id AS "imageId", status, db_version AS "dbVersion", matched_db_version AS "matchedDbVersion",
       previous_scan_id AS "previousScanId", priority
     FROM scans WHERE kind = 'rematch' AND db_version = $1 AND status = 'completed'`,
    [dbVersion],
  );
  return new Map(rows.map((r) => [r.imageId, r]));
}

async function currentDbVersion(): Promise<string> {
  const res = await fleet.api.call('GET', '/api/v1/db');
  expect(res.status).toBe(200);
  return (res.body as { version: string }).version;
}

/** Every image has a completed rematch scan of `run`'s version whose previous scan is the image's scan before it. */
async function waitForRun(runId: string, images: number): Promise<void> {
  await waitFor(
    `rematch run ${runId} to complete`,
    async () => {
      const res = await fleet.api.call('GET', `/api/v1/db/rematch/${runId}`);
      const run = res.body as { batches: number; counts: Record<string, number> };
      return run.counts.completed + run.counts.failed === run.batches ? run : undefined;
    },
    240_000,
  ).then((run) => expect(run).toMatchObject({ images, counts: { queued: 0, running: 0, failed: 0 } }));
}

beforeAll(async () => {
  fleet = await startFleet({
    images: IMAGES,
    repositories: 2,
    controlPlaneEnv: { VIGIL_REMATCH_BATCH_SIZE: '1' },
  });
  const env = { VIGIL_CONTROL_PLANE_URL: fleet.controlPlane.url };
  await Promise.all([fleet.startWorker({ env }), fleet.startWorker({ env })]);
  scans = await requestScans(fleet.api, fleet.images);
  const rows = await waitForScans(
    fleet.db,
    scans.map((s) => s.scanId),
  );
  expect(rows.map((r) => r.status)).toEqual(scans.map(() => 'completed'));
  work = await mkdtemp(join(tmpdir(), 'vigil-rematch-'));
}, 600_000);

afterAll(async () => {
  await fleet?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('rematch', () => {
  it('lets a user scan requested after a rematch start before the rematch finishes', async () => {
    const version = await currentDbVersion();
    const started = await fleet.api.call('POST', '/api/v1/db/rematch');
    expect(started.status).toBe(202);
    const run = started.body as { id: string; dbVersion: string; images: number; batches: number };
    expect(run).toMatchObject({ dbVersion: version, trigger: 'api', images: IMAGES, batches: IMAGES });

    const user = await fleet.api.call('POST', '/api/v1/scans', {
      imageId: scans[0]!.imageId,
      priority: 'manual',
      force: true,
    });
    expect(user.status).toBe(201);
    const userScanId = (user.body as { scan: { id: string } }).scan.id;
    await waitForScans(fleet.db, [userScanId]);
    await waitForRun(run.id, IMAGES);

    // the user scan was claimed while rematch batches were still to be recorded (Postgres clock on both sides)
    const { rows } = await fleet.db.query<{ status: string; later: number; total: number }>(
      `SELECT u.status,
         (SELECT count(*)::int FROM scans r WHERE r.kind = 'rematch' AND r.db_version = $2 AND r.finished_at > u.started_at) AS later,
         (SELECT count(*)::int FROM scans r WHERE r.kind = 'rematch' AND r.db_version = $2) AS total
       FROM scans u WHERE u.id = $1`,
      [userScanId, version],
    );
    expect(rows[0]!.status).toBe('completed');
    expect(rows[0]!.total).toBe(IMAGES);
    expect(rows[0]!.later).toBeGreaterThan(0);

    // every image has its own completed rematch scan, at the rematch priority, against its previous scan
    const rematched = await rematchScans(version);
    expect([...rematched.keys()].sort()).toEqual(scans.map((s) => s.imageId).sort());
    for (const s of scans.slice(1)) {
      expect(rematched.get(s.imageId)).toMatchObject({
        status: 'completed',
        priority: 'rematch',
        previousScanId: s.scanId,
        matchedDbVersion: version,
      });
      const changes = await fleet.api.call('GET', `/api/v1/scans/${rematched.get(s.imageId)!.id}/rematch`);
      // same database, same inventory: nothing found or resolved
      expect(changes.body).toMatchObject({ kind: 'rematch', dbVersion: version, found: [], resolved: [] });
    }
  });

  it('finds a new advisory in stored inventories without the registry, and resolves a removed one', async () => {
    const before = await currentDbVersion();
    const affected = scans.filter((s) => s.image.base === '3.10');
    const other = scans.filter((s) => s.image.base === '3.11');
    const findingsBefore = new Map(
      await Promise.all(
        scans.map(async (s) => [s.imageId, await imageFindings(fleet.api, s.imageId)] as const),
      ),
    );
    expect(
      findingsBefore.get(affected[0]!.imageId)!.filter((k) => k.startsWith('CVE-2021-36159 ')),
    ).toHaveLength(1);

    // a feeds copy with one advisory more and one less for apk-tools on Alpine 3.10
    const feeds = join(work, 'feeds');
    await cp(realdata('feeds'), feeds, { recursive: true });
    const secdbPath = join(feeds, 'alpine', 'vulnlist-secdb-v3.10-main-image-subset.json');
    const secdb = JSON.parse(await readFile(secdbPath, 'utf8')) as {
      packages: Array<{ pkg: { name: string; secfixes: Record<string, string[]> } }>;
    };
    const apk = secdb.packages.find((p) => p.pkg.name === 'apk-tools')!.pkg;
    expect(apk.secfixes['2.10.7-r0']).toEqual(['CVE-2021-36159']);
    delete apk.secfixes['2.10.7-r0'];
    apk.secfixes['2.99.0-r0'] = ['CVE-2099-0001'];
    await writeFile(secdbPath, JSON.stringify(secdb));
    const snapshot = join(work, 'v2.db');
    const built = await runVigil(['db', 'build', '--from', feeds, '--out', snapshot, '-q']);
    expect(built.code).toBe(0);

    // no registry from here on: the rematch reads stored inventories only
    await fleet.registry.stop();
    const token = await fleet.api.useNewToken(['admin']);
    const upload = await fetch(`${fleet.controlPlane.url}/api/v1/db/snapshot`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: await readFile(snapshot),
    });
    expect(upload.status).toBe(201);
    const version = ((await upload.json()) as { version: string }).version;
    expect(version).not.toBe(before);

    const rematched = await waitFor(
      'a rematch scan of every image with the new snapshot',
      async () => {
        const rows = await rematchScans(version);
        return rows.size === IMAGES ? rows : undefined;
      },
      240_000,
    );
    for (const s of affected) {
      const scan = rematched.get(s.imageId)!;
      expect(scan).toMatchObject({ matchedDbVersion: version });
      const changes = await fleet.api.call('GET', `/api/v1/scans/${scan.id}/rematch`);
      expect(changes.status).toBe(200);
      expect(changes.body).toEqual({
        scanId: scan.id,
        kind: 'rematch',
        dbVersion: version,
        previousScanId: scan.previousScanId,
        found: [
          {
            vulnerabilityId: 'CVE-2099-0001',
            packageName: 'apk-tools',
            installedVersion: '2.10.4-r2',
            severity: 'UNKNOWN',
          },
        ],
        resolved: [
          {
            vulnerabilityId: 'CVE-2021-36159',
            packageName: 'apk-tools',
            installedVersion: '2.10.4-r2',
            severity: 'CRITICAL',
          },
        ],
      });
      // the image's findings (its latest scan) show the new state
      const now = await imageFindings(fleet.api, s.imageId);
      expect(now.filter((k) => k.startsWith('CVE-2099-0001 '))).toHaveLength(1);
      expect(now.filter((k) => k.startsWith('CVE-2021-36159 '))).toEqual([]);
      expect(now.length).toBe(findingsBefore.get(s.imageId)!.length);
      // the image's latest scan is that rematch: its changes through the image too
      expect((await fleet.api.call('GET', `/api/v1/images/${s.imageId}/rematch`)).body).toEqual(changes.body);
      const image = await fleet.api.call('GET', `/api/v1/images/${s.imageId}`);
      expect(image.body).toMatchObject({ lastCompletedScanId: scan.id });
    }
    for (const s of other) {
      const scan = rematched.get(s.imageId)!;
      const changes = await fleet.api.call('GET', `/api/v1/scans/${scan.id}/rematch`);
      expect(changes.body).toMatchObject({ found: [], resolved: [] });
      expect(await imageFindings(fleet.api, s.imageId)).toEqual(findingsBefore.get(s.imageId));
    }
  });
});
