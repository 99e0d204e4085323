/**
 * The stale-scan reaper on real parts (scratch Postgres, chdb, WorkerService over loopback gRPC), once with the
 * in-process queue and once with NATS JetStream and the worker's JetStream source: the NATS-crash case (the
 * current attempt's worker is gone and the job came back with a lower delivery count, which the claim dropped)
 * ends with the scan re-queued, delivered as the next attempt past every earlier one and completed once; a scan
 * whose last attempt was lost fails with CP_SCAN_WORKER_LOST; a scan whose report stream is open is left alone.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanStatus } from '@vigil/proto/v1/scan_pb';
import { createInProcessQueue } from '../queue/in-process.js';
import { jetStreamQueue } from '../queue/testdata/jetstream-queue.js';
import { take, type QueueUnderTest } from '../queue/testdata/queue-behaviour.js';
import {
  completeReport,
  messages,
  openBackends,
  startServices,
  wireFinding,
  wirePackage,
  type Backends,
  type ReportInit,
} from '../services/testdata/harness.js';

let backends: Backends;
const actor = { type: 'system' as const, id: null };
let orgs = 0;
const digest = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;

beforeAll(async () => {
  backends = await openBackends();
});
afterAll(() => backends?.dispose());

const PACKAGES = [wirePackage('openssl', '3.0.1'), wirePackage('zlib', '1.2')];
const FINDINGS = [
  wireFinding('CVE-2024-0001', 'CRITICAL', wirePackage('openssl', '3.0.1'), '3.0.2'),
  wireFinding('CVE-2024-0003', 'LOW', wirePackage('zlib', '1.2')),
];

/** Moves the scans' last activity ten minutes into the past. */
const idle = (scanIds: string[]) =>
  backends.db.query(
    `UPDATE scans SET active_at = now() - interval '10 minutes' WHERE id = ANY ($1::uuid[])`,
    [scanIds],
  );

const activeWithinSeconds = async (scanId: string, seconds: number): Promise<boolean> => {
  const { rows } = await backends.db.query<{ recent: boolean }>(
    `SELECT active_at > now() - make_interval(secs => $2) AS recent FROM scans WHERE id = $1`,
    [scanId, seconds],
  );
  return rows[0]?.recent === true;
};

const reportStarted = async (scanId: string): Promise<boolean> => {
  const { rows } = await backends.db.query<{ started: boolean }>(
    `SELECT report_attempt IS NOT NULL AS started FROM scans WHERE id = $1`,
    [scanId],
  );
  return rows[0]?.started === true;
};

/** A report stream that sends `started` and waits for `release` before the rest. */
function held(all: ReportInit[]): { stream: AsyncIterable<ReportInit>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  async function* stream() {
    yield all[0]!;
    await gate;
    yield* all.slice(1);
  }
  return { stream: stream(), release };
}

async function lostScans(q: QueueUnderTest) {
  const org = (await backends.stores.orgs.createOrg({ slug: `reaper-${++orgs}`, name: 'Reaper' })).id;
  const cp = await startServices(backends, {
    dispatcher: q.dispatcher,
    // a sweep only when the test asks; open streams record activity every 600 ms
    dispatch: { intervalMs: 60_000, idleScanMs: 3_000 },
  });
  const source = await q.openSource({ lowerPriorityEvery: 0 });
  const request = async (label: string) =>
    (
      await cp.services.scans.requestScan(
        org,
        { target: { reference: `registry.test/app@${digest(`${org}-${label}`)}` }, priority: 'manual' },
        actor,
      )
    ).scan;
  const claim = (scanId: string, attempt: number) =>
    cp.worker.claimJob({ scanId, attempt, workerId: 'w' }, { metadata: cp.metadata });
  const report = (scanId: string, attempt: number, events = completeReport(PACKAGES, FINDINGS)) =>
    cp.worker.report(messages(scanId, attempt, events), { metadata: cp.metadata });
  const view = async (scanId: string) => {
    const scan = (await cp.services.scans.getScan(org, scanId))!;
    return `${scan.status}#${scan.attempt}${scan.error ? ` ${scan.error.code}: ${scan.error.message}` : ''}`;
  };

  // lost: attempt 2's worker died with the NATS server, whose redelivery came back as delivery 1 and was dropped
  const lost = await request('lost');
  const redelivered = await take(source, 5_000);
  await claim(lost.id, 2);
  const dropped = await claim(lost.id, redelivered!.attempt);
  await redelivered!.ack();
  // exhausted: the same, but at its last attempt (the harness allows 3)
  const exhausted = await request('exhausted');
  const lastJob = await take(source, 5_000);
  await claim(exhausted.id, 3);
  await lastJob!.ack();
  // live: its worker streams a report, slowly
  const live = await request('live');
  const liveJob = await take(source, 5_000);
  await claim(live.id, liveJob!.attempt);
  const liveReport = held(messages(live.id, liveJob!.attempt, completeReport(PACKAGES, FINDINGS)));
  const liveCall = cp.worker.report(liveReport.stream, { metadata: cp.metadata });
  await expect.poll(() => reportStarted(live.id), { timeout: 10_000 }).toBe(true);

  await idle([lost.id, exhausted.id, live.id]);
  // the open stream records activity again within its interval
  await expect.poll(() => activeWithinSeconds(live.id, 60), { timeout: 10_000 }).toBe(true);
  const published = await cp.services.dispatchLoop.sweep({ all: true });
  const afterSweep = {
    lost: await view(lost.id),
    exhausted: await view(exhausted.id),
    live: await view(live.id),
  };

  // the re-queued copy: its attempts continue after 2
  const again = await take(source, 5_000);
  const reclaimed = await claim(lost.id, again!.attempt);
  const completed = await report(lost.id, again!.attempt);
  await again!.ack();
  // attempt 2's worker reappears late: its report changes nothing
  const late = await report(lost.id, 2);
  liveReport.release();
  const liveDone = await liveCall;
  await liveJob!.ack();
  const leftover = await take(source, 500);

  const image = (await cp.services.queries.getImage(org, lost.imageId))!;
  const findings = await cp.services.queries.imageFindings(org, lost.imageId);
  await cp.close();
  return {
    dropped: dropped.proceed,
    published,
    afterSweep,
    again: again && { scanId: again.job.scanId, attempt: again.attempt },
    reclaimed: reclaimed.proceed,
    completed: ScanStatus[completed.status],
    late: { status: ScanStatus[late.status], ignored: late.ignored },
    live: ScanStatus[liveDone.status],
    final: { lost: await view(lost.id), exhausted: await view(exhausted.id), live: await view(live.id) },
    summary: { attempt: image.summary?.attempt, total: image.summary?.counts.total },
    findings: findings.findings.map((f) => f.id).sort(),
    leftover,
    ids: { lost: lost.id },
  };
}

const expected = (lostId: string) => ({
  dropped: false,
  published: 1,
  afterSweep: {
    lost: 'queued#2',
    exhausted: 'failed#3 CP_SCAN_WORKER_LOST: worker lost: attempt 3 of 3 showed no activity for 3 s',
    live: 'running#1',
  },
  again: { scanId: lostId, attempt: 3 },
  reclaimed: true,
  completed: 'COMPLETED',
  late: { status: 'COMPLETED', ignored: true },
  live: 'COMPLETED',
  final: {
    lost: 'completed#3',
    exhausted: 'failed#3 CP_SCAN_WORKER_LOST: worker lost: attempt 3 of 3 showed no activity for 3 s',
    live: 'completed#1',
  },
  summary: { attempt: 3, total: 2 },
  findings: ['CVE-2024-0001', 'CVE-2024-0003'],
  leftover: null,
  ids: { lost: lostId },
});

describe('a running scan whose worker and job are lost', () => {
  it('in-process queue: re-queued and completed once; the last attempt fails; a live one stays', async () => {
    const queue = createInProcessQueue({ maxDeliver: 3 });
    const outcome = await lostScans({
      dispatcher: queue,
      openSource: async (options) => queue.source(options),
      killSource: (source) => source.close(),
      close: () => queue.close(),
    });
    await queue.close();
    expect(outcome).toEqual(expected(outcome.ids.lost));
  });

  it('NATS JetStream: the re-queued copy is stored inside the dedup window of the first job', async () => {
    const q = await jetStreamQueue({ maxDeliver: 3 });
    try {
      const outcome = await lostScans(q);
      expect(outcome).toEqual(expected(outcome.ids.lost));
    } finally {
      await q.close();
    }
  });
});
