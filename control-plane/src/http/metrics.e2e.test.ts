/**
 * GET /metrics after scans went through the real service layer (api-harness: scratch Postgres, chdb, the
 * in-process queue, WorkerService on loopback gRPC): finished scans by status (completed through worker reports,
 * cancelled through the API, failed as dead jobs), published jobs by result, dead jobs and the queue depth.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { trackQueueDepth } from '../metrics.js';
import { call, startApi, type ApiHarness } from './testdata/api-harness.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi();
  await h.cp.services.dispatchLoop.start();
  // as server.ts does
  trackQueueDepth(() => h.cp.dispatcher.pending());
});
afterAll(() => h?.close());

/** The samples of the control plane's own metrics (`vigil_` but not the process defaults), by series. */
async function vigilSamples(): Promise<Record<string, number>> {
  const res = await call(h.app, null, { method: 'GET', url: '/metrics' });
  const wanted =
    /^(vigil_(?:scans_finished_total|queue_published_total|queue_dead_jobs_total|queue_pending_jobs)\S*) (\S+)$/;
  return Object.fromEntries(
    res.body
      .split('\n')
      .map((line) => wanted.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, Number(m[2])]),
  );
}

it('counts finished scans by status, published and dead jobs, and shows the queue depth', async () => {
  // seeded: each tenant's scan completed by a worker report; its queued scan and its batch's scan are published
  const cancel = await call(
    h.app,
    { bearer: h.a.tokens.admin },
    {
      method: 'POST',
      url: `/api/v1/scans/${h.a.queuedScanId}/cancel`,
    },
  );
  // every worker that takes a job dies: the harness queue delivers each job 3 times, then it is dead
  const pendingBefore = await h.cp.dispatcher.pending();
  const source = h.cp.queue!.source({ autoHeartbeat: false });
  for (let i = 0; i < pendingBefore * 3; i++) (await source.next(AbortSignal.timeout(5_000)))?.nak(0);
  await source.close();
  const failed = [h.a.batchId, h.b.batchId];
  await expect
    .poll(async () => {
      const scans = await Promise.all(
        [h.b.queuedScanId].map((id) => h.backends.stores.scans.getScan(h.b.org.id, id)),
      );
      const batches = await Promise.all([
        h.backends.stores.scans.getBatch(h.a.org.id, failed[0]!),
        h.backends.stores.scans.getBatch(h.b.org.id, failed[1]!),
      ]);
      return [...scans.map((s) => s?.status), ...batches.map((b) => b?.counts.failed)];
    })
    .toEqual(['failed', 1, 1]);
  expect({ cancel: cancel.statusCode, pendingBefore, metrics: await vigilSamples() }).toEqual({
    cancel: 200,
    // the completed scans' jobs too: the harness claimed those scans without taking their jobs
    pendingBefore: 6,
    metrics: {
      'vigil_scans_finished_total{status="completed"}': 2,
      'vigil_scans_finished_total{status="cancelled"}': 1,
      'vigil_scans_finished_total{status="failed"}': 3,
      'vigil_queue_published_total{result="ok"}': 6,
      vigil_queue_dead_jobs_total: 6,
      vigil_queue_pending_jobs: 0,
    },
  });
});
