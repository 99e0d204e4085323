/**
 * Fleet scenario: NATS restarts under a running fleet. Real processes (test/harness/fleet.ts) on a PRIVATE
 * nats-server (free port, temp store directory; the shared server on 4222 is never touched): `vigil
 * control-plane`, two `vigil worker` processes, images pulled through a throttling registry proxy.
 *
 * With both workers mid-scan and jobs waiting in the stream, nats-server is killed, a scan is requested during
 * the outage, and the server is started again on the same store directory: the same worker processes reconnect,
 * the jobs stored before the outage are not lost, scans requested during and after it complete, each once, and
 * each worker pulls jobs again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startPrivateNatsServer,
  type PrivateNatsServer,
} from '../../../control-plane/src/queue/testdata/nats-server.js';
import { requestScans, waitForScans } from '../../harness/fleet-checks.js';
import { startFleet, waitFor, waitForCompletionLines, type Fleet } from '../../harness/fleet.js';

let nats: PrivateNatsServer;
let fleet: Fleet;

beforeAll(async () => {
  nats = await startPrivateNatsServer();
  fleet = await startFleet({ images: 14, natsUrl: nats.url });
});

afterEach(() => fleet?.proxy.release());

afterAll(async () => {
  await fleet?.close();
  await nats?.dispose();
});

/** `/readyz`'s queue check: `ok`, `failed` or `timeout` (null when the control plane does not answer). */
async function queueReadiness(): Promise<string | null> {
  const res = await fetch(`${fleet.controlPlane.url}/readyz`).catch(() => null);
  return res ? (((await res.json()) as { checks?: { queue?: string } }).checks?.queue ?? null) : null;
}

describe('fleet: NATS restart', () => {
  it('workers reconnect after nats-server restarts; stored jobs are not lost, new scans complete', async () => {
    const workers = await Promise.all([1, 2].map(() => fleet.startWorker()));
    const pids = workers.map((w) => w.pid);
    const warmup = await requestScans(fleet.api, fleet.images.slice(0, 2));
    await waitForScans(
      fleet.db,
      warmup.map((s) => s.scanId),
    );

    // both workers busy mid-download, four more jobs stored in the stream
    fleet.proxy.hold();
    const stored = await requestScans(fleet.api, fleet.images.slice(2, 8));
    await waitFor('both workers to hold a scan', async () => (fleet.proxy.waiting >= 2 ? true : undefined));

    await nats.kill();
    await waitFor('the control plane to see the queue down', async () =>
      (await queueReadiness()) !== 'ok' ? true : undefined,
    );
    const duringOutage = requestScans(fleet.api, fleet.images.slice(8, 10));
    await nats.start();
    fleet.proxy.release();
    const during = await duringOutage;
    await waitFor('the control plane to see the queue again', async () =>
      (await queueReadiness()) === 'ok' ? true : undefined,
    );
    const after = await requestScans(fleet.api, fleet.images.slice(10, 12));

    await waitForScans(
      fleet.db,
      [...stored, ...during, ...after].map((s) => s.scanId),
    );
    // each worker pulls again: with the other one holding the first of two jobs, each takes one
    fleet.proxy.hold();
    const last = await requestScans(fleet.api, fleet.images.slice(12, 14));
    const pulledAgain = await Promise.all(
      workers.map((w) =>
        w.waitFor(
          'a job after the restart',
          (e) => e.msg === 'scan start' && last.some((s) => s.scanId === e.scanId),
        ),
      ),
    );
    fleet.proxy.release();

    const all = [...stored, ...during, ...after, ...last];
    const rows = await waitForScans(
      fleet.db,
      all.map((s) => s.scanId),
    );
    expect({
      statuses: rows.map((r) => `${r.status} error ${r.errorCode}`),
      completedOnce: await waitForCompletionLines(
        workers,
        all.map((s) => s.scanId),
      ),
      sameWorkers: workers.map((w) => (w.running ? w.pid : null)),
      pulledAgain: pulledAgain.map((e) => e.msg),
    }).toEqual({
      statuses: all.map(() => 'completed error null'),
      completedOnce: all.map(() => 1),
      sameWorkers: pids,
      pulledAgain: ['scan start', 'scan start'],
    });
  }, 300_000);
});
