/**
 * Fleet scenario: tenant isolation end to end through the real processes (test/harness/fleet.ts): `vigil
 * control-plane`, a `vigil worker`, images from a local docker-registry. Organisation A (the first admin's) has a
 * completed scan with findings, a batch and a scan held running by a slow registry; organisation B (created the
 * way the first one is) uses its own admin token against A's ids on representative routes: it reads, cancels and
 * counts nothing of A's (a foreign id answers 404 like a missing one), A's running scan goes on to complete, and
 * B's scan of the very same image stays B's. The full per-route table lives in control-plane/src/http tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestScans, waitForScans } from '../../harness/fleet-checks.js';
import { startFleet, waitFor, type ApiClient, type Fleet } from '../../harness/fleet.js';

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ images: 2, repositories: 1 });
  await fleet.startWorker();
});

afterAll(async () => {
  await fleet?.close();
});

const statusOf = async (api: ApiClient, method: string, path: string, body?: unknown) =>
  (await api.call(method, `/api/v1${path}`, body)).status;

const summaryOf = async (api: ApiClient) => (await api.call('GET', '/api/v1/summary')).body;

describe('fleet: tenant isolation through the real processes', () => {
  it("organisation B cannot read, cancel or count anything of organisation A's", async () => {
    const a = fleet.api;
    const [completed] = await requestScans(a, [fleet.images[0]!]);
    await waitForScans(fleet.db, [completed!.scanId]);
    const findings = (await a.call('GET', `/api/v1/images/${completed!.imageId}/findings?limit=1`)).body as {
      items: Array<{ id: string }>;
    };
    const cve = findings.items[0]!.id;
    fleet.proxy.hold();
    const [running] = await requestScans(a, [fleet.images[1]!]);
    await waitFor('the scan to be running', async () => (fleet.proxy.waiting > 0 ? true : undefined));
    const batch = (await a.call('POST', '/api/v1/scans/bulk', { imageIds: [completed!.imageId] })).body as {
      id: string;
    };

    const b = await fleet.addOrg('tenant-b');
    const foreign = {
      getScan: await statusOf(b, 'GET', `/scans/${completed!.scanId}`),
      getRunningScan: await statusOf(b, 'GET', `/scans/${running!.scanId}`),
      watchScan: await statusOf(b, 'GET', `/scans/${running!.scanId}/events`),
      cancelScan: await statusOf(b, 'POST', `/scans/${running!.scanId}/cancel`),
      getImage: await statusOf(b, 'GET', `/images/${completed!.imageId}`),
      imageFindings: await statusOf(b, 'GET', `/images/${completed!.imageId}/findings`),
      rescanImage: await statusOf(b, 'POST', '/scans', { imageId: completed!.imageId }),
      getBatch: await statusOf(b, 'GET', `/scans/bulk/${batch.id}`),
      cancelBatch: await statusOf(b, 'POST', `/scans/bulk/${batch.id}/cancel`),
    };
    const counted = {
      images: (await b.call('GET', '/api/v1/images')).body,
      summary: await summaryOf(b),
      withCve: (await b.call('GET', `/api/v1/vulnerabilities/${cve}/images`)).body,
      bulkOfForeignIds: (await b.call('POST', '/api/v1/scans/bulk', { imageIds: [completed!.imageId] })).body,
    };
    fleet.proxy.release();
    const [runningRow] = await waitForScans(fleet.db, [running!.scanId]);
    await waitFor("A's batch to finish", async () => {
      const body = (await a.call('GET', `/api/v1/scans/bulk/${batch.id}`)).body as {
        counts: { queued: number };
      };
      return body.counts.queued === 0 ? true : undefined;
    });
    const summaryA = await summaryOf(a);

    // B scans the same image: its own image, scan and findings; A's view does not change
    const [own] = await requestScans(b, [fleet.images[0]!]);
    await waitForScans(fleet.db, [own!.scanId]);
    const withCveB = (await b.call('GET', `/api/v1/vulnerabilities/${cve}/images`)).body as {
      items: Array<{ image: { id: string } }>;
    };
    const withCveA = (await a.call('GET', `/api/v1/vulnerabilities/${cve}/images`)).body as {
      items: Array<{ image: { id: string } }>;
    };
    const zero = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0, total: 0 };
    expect({
      foreign,
      counted: {
        ...counted,
        bulkOfForeignIds: pick(counted.bulkOfForeignIds, ['requested', 'matched', 'total']),
      },
      aRunningScanAfterBsCancel: runningRow!.status,
      ownImage: own!.imageId !== completed!.imageId,
      withCve: {
        a: withCveA.items
          .map((i) => i.image.id)
          .filter((id) => [completed!.imageId, own!.imageId].includes(id)),
        b: withCveB.items.map((i) => i.image.id),
      },
      summaries: { aUnchanged: await summaryOf(a), b: pick(await summaryOf(b), ['images', 'scannedImages']) },
    }).toEqual({
      foreign: {
        getScan: 404,
        getRunningScan: 404,
        watchScan: 404,
        cancelScan: 404,
        getImage: 404,
        imageFindings: 404,
        rescanImage: 404,
        getBatch: 404,
        cancelBatch: 404,
      },
      counted: {
        images: { items: [], nextCursor: null },
        summary: { images: 0, scannedImages: 0, counts: zero, fixable: 0 },
        withCve: { items: [], nextCursor: null },
        bulkOfForeignIds: { requested: 1, matched: 0, total: 0 },
      },
      aRunningScanAfterBsCancel: 'completed',
      ownImage: true,
      withCve: { a: [completed!.imageId], b: [own!.imageId] },
      summaries: { aUnchanged: summaryA, b: { images: 1, scannedImages: 1 } },
    });
  }, 300_000);
});

function pick(value: unknown, keys: readonly string[]): Record<string, unknown> {
  const record = value as Record<string, unknown>;
  return Object.fromEntries(keys.map((k) => [k, record[k]]));
}
