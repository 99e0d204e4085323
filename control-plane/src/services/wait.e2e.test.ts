/**
 * waitForScan (the long poll of `GET /scans/{id}?wait=`) on real parts (scratch Postgres, chdb, the in-process
 * queue, the real WorkerService handlers): a wait in flight ends with the completion a worker reports; a final
 * scan is answered at once; an elapsed wait or a caller gone answers the current status; a foreign id is null.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  completeReport,
  messages,
  openBackends,
  startServices,
  wireFinding,
  wirePackage,
} from './testdata/harness.js';
import type { Backends, ServiceInstance } from './testdata/harness.js';
import { waitForScan } from './wait.js';

let backends: Backends;
let cp: ServiceInstance;
const user = { type: 'user' as const, id: 'u-1' };
const digest = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;

beforeAll(async () => {
  backends = await openBackends();
  cp = await startServices(backends);
});
afterAll(async () => {
  await cp?.close();
  await backends?.dispose();
});

describe('waitForScan', () => {
  it('answers once the scan completes, at once when final, with the current status when the wait ends', async () => {
    const org = (
      await backends.stores.orgs.createOrg({ slug: 'wait-1', name: 'Wait', scanningEnabled: true })
    ).id;
    const request = async (label: string) =>
      (
        await cp.services.scans.requestScan(
          org,
          { target: { reference: `w/wait@${digest(label)}` }, priority: 'ci' },
          user,
        )
      ).scan;
    const scan = await request('completes');
    const waiting = waitForScan(cp.services.scans, org, scan.id, 60_000);
    await cp.worker.claimJob({ scanId: scan.id, attempt: 1 }, { metadata: cp.metadata });
    await cp.worker.report(
      messages(
        scan.id,
        1,
        completeReport([wirePackage('a')], [wireFinding('CVE-1', 'LOW', wirePackage('a'))]),
      ),
      { metadata: cp.metadata },
    );
    const completed = await waiting;
    const again = await waitForScan(cp.services.scans, org, scan.id, 60_000);

    const queued = await request('stays-queued');
    const elapsed = await waitForScan(cp.services.scans, org, queued.id, 200);
    const gone = new AbortController();
    const abandoned = waitForScan(cp.services.scans, org, queued.id, 60_000, gone.signal);
    setTimeout(() => gone.abort(), 100);
    const noWait = await waitForScan(cp.services.scans, org, queued.id, 0);
    const foreign = await waitForScan(cp.services.scans, org, '00000000-0000-4000-8000-000000000000', 1_000);

    expect({
      completed: [completed?.id, completed?.status],
      again: again?.status,
      elapsed: elapsed?.status,
      abandoned: (await abandoned)?.status,
      noWait: noWait?.status,
      foreign,
    }).toEqual({
      completed: [scan.id, 'completed'],
      again: 'completed',
      elapsed: 'queued',
      abandoned: 'queued',
      noWait: 'queued',
      foreign: null,
    });
  });
});
