/**
 * WorkerService over real gRPC on loopback, on a scratch Postgres, chdb and the in-process queue: worker
 * authentication, every ClaimJob outcome, and every way a report ends (completed, truncated, failed retryably
 * and for good, cancelled), with what each leaves in Postgres and the analytics store.
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ScanStatus } from '@vigil/proto/v1/scan_pb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CancelMessage } from '../queue/types.js';
import {
  completeReport,
  messages,
  openBackends,
  startServices,
  wireFinding,
  wirePackage,
  type Backends,
  type ServiceInstance,
} from '../services/testdata/harness.js';
import type { ScanRecord } from '../services/types.js';
import { remoteErrorCode } from './status.js';

let backends: Backends;
let cp: ServiceInstance;
let org: string;
const actor = { type: 'user' as const, id: null };
const digest = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;

beforeAll(async () => {
  backends = await openBackends();
  cp = await startServices(backends);
  org = (await backends.stores.orgs.createOrg({ slug: 'workers', name: 'Workers' })).id;
});
afterAll(async () => {
  await cp?.close();
  await backends?.dispose();
});

let labels = 0;
/** A queued scan of a new image. */
async function queued(): Promise<ScanRecord> {
  const label = `img-${++labels}`;
  const { scan } = await cp.services.scans.requestScan(
    org,
    { target: { reference: `registry.test/app@${digest(label)}` }, priority: 'manual' },
    actor,
  );
  return scan;
}

const claim = (scanId: string, attempt: number, metadata = cp.metadata) =>
  cp.worker.claimJob({ scanId, attempt, workerId: 'w1' }, { metadata });

const failure = (error: unknown) => ({
  grpc: (error as grpc.ServiceError).code,
  code: remoteErrorCode(error),
});

const FINDINGS = [
  wireFinding('CVE-2024-0001', 'CRITICAL', wirePackage('openssl', '3.0.1'), '3.0.2'),
  wireFinding('CVE-2024-0002', 'HIGH', wirePackage('openssl', '3.0.1')),
  wireFinding('CVE-2024-0003', 'LOW', wirePackage('zlib', '1.2'), '1.3'),
];
const PACKAGES = [wirePackage('openssl', '3.0.1'), wirePackage('zlib', '1.2'), wirePackage('bash', '5.2')];

describe('authentication', () => {
  it('answers UNAUTHENTICATED without the worker token or with another one', async () => {
    const scan = await queued();
    const wrong = new grpc.Metadata();
    wrong.set('authorization', 'Bearer not-the-worker-token-at-all');
    const basic = new grpc.Metadata();
    basic.set('authorization', `Basic ${Buffer.from('a:b').toString('base64')}`);
    const outcomes = await Promise.all([
      claim(scan.id, 1, new grpc.Metadata()).catch(failure),
      claim(scan.id, 1, wrong).catch(failure),
      claim(scan.id, 1, basic).catch(failure),
      cp.worker.report(messages(scan.id, 1, completeReport([], [])), { metadata: wrong }).catch(failure),
    ]);
    const unauthenticated = { grpc: grpc.status.UNAUTHENTICATED, code: 'CP_UNAUTHENTICATED' };
    expect({ outcomes, scan: (await cp.services.scans.getScan(org, scan.id))?.status }).toEqual({
      outcomes: [unauthenticated, unauthenticated, unauthenticated, unauthenticated],
      scan: 'queued',
    });
  });
});

describe('ClaimJob', () => {
  it('claims forward-moving attempts, re-claims the current one, and drops stale, finished and unknown jobs', async () => {
    const scan = await queued();
    const cancelled = await queued();
    await cp.services.scans.cancelScan(org, cancelled.id, actor);
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['claim 1', () => claim(scan.id, 1)],
      ['claim 1 again (retried call)', () => claim(scan.id, 1)],
      ['claim 3 (redelivered)', () => claim(scan.id, 3)],
      ['claim 2 (stale)', () => claim(scan.id, 2)],
      ['cancelled scan', () => claim(cancelled.id, 1)],
      ['unknown scan', () => claim('00000000-0000-4000-8000-000000000000', 1)],
      ['not a uuid', () => claim('nope', 1)],
      ['attempt 0', () => claim(scan.id, 0)],
    ];
    const outcomes: Record<string, unknown> = {};
    for (const [name, step] of steps) {
      outcomes[name] = await step().then((r) => {
        const { proceed, status, dbVersion } = r as {
          proceed: boolean;
          status: ScanStatus;
          dbVersion: string;
        };
        return { proceed, status: ScanStatus[status], dbVersion };
      }, failure);
    }
    const running = { proceed: true, status: 'RUNNING', dbVersion: 'db-v1' };
    expect({ outcomes, attempt: (await cp.services.scans.getScan(org, scan.id))?.attempt }).toEqual({
      outcomes: {
        'claim 1': running,
        'claim 1 again (retried call)': running,
        'claim 3 (redelivered)': running,
        'claim 2 (stale)': { proceed: false, status: 'RUNNING', dbVersion: 'db-v1' },
        'cancelled scan': { proceed: false, status: 'CANCELLED', dbVersion: 'db-v1' },
        'unknown scan': { proceed: false, status: 'UNSPECIFIED', dbVersion: 'db-v1' },
        'not a uuid': { proceed: false, status: 'UNSPECIFIED', dbVersion: 'db-v1' },
        'attempt 0': { grpc: grpc.status.INVALID_ARGUMENT, code: 'CP_INVALID_ARGUMENT' },
      },
      attempt: 3,
    });
  });
});

/** Postgres and analytics views of a scan's image after a report. */
async function outcomeOf(scanId: string) {
  const scan = (await cp.services.scans.getScan(org, scanId))!;
  const image = (await cp.services.queries.getImage(org, scan.imageId))!;
  const findings = await cp.services.queries.imageFindings(org, scan.imageId);
  return {
    status: scan.status,
    attempt: scan.attempt,
    error: scan.error,
    summary: image.summary && {
      scanId: image.summary.scanId,
      attempt: image.summary.attempt,
      counts: image.summary.counts,
      fixable: image.summary.fixable,
      packages: image.summary.packages,
      os: image.summary.os,
    },
    findings: findings.findings
      .map((f) => `${f.id} ${f.severity} ${f.package.name} ${f.fixedVersion}`)
      .sort(),
  };
}

const COMPLETED_SUMMARY = (scanId: string, attempt: number) => ({
  scanId,
  attempt,
  counts: { critical: 1, high: 1, medium: 0, low: 1, unknown: 0, total: 3 },
  fixable: 2,
  packages: 3,
  os: { family: 'debian', version: '12' },
});
const FINDING_LINES = [
  'CVE-2024-0001 CRITICAL openssl 3.0.2',
  'CVE-2024-0002 HIGH openssl null',
  'CVE-2024-0003 LOW zlib 1.3',
];

describe('Report', () => {
  it('completes a scan: rows published, summary recorded on the image, the same report again is ignored', async () => {
    const scan = await queued();
    await claim(scan.id, 1);
    const report = messages(scan.id, 1, completeReport(PACKAGES, FINDINGS));
    const first = await cp.worker.report(report, { metadata: cp.metadata });
    const again = await cp.worker.report(report, { metadata: cp.metadata });
    expect({
      first: { status: ScanStatus[first.status], ignored: first.ignored },
      again: { status: ScanStatus[again.status], ignored: again.ignored },
      outcome: await outcomeOf(scan.id),
    }).toEqual({
      first: { status: 'COMPLETED', ignored: false },
      again: { status: 'COMPLETED', ignored: true },
      outcome: {
        status: 'completed',
        attempt: 1,
        error: null,
        summary: COMPLETED_SUMMARY(scan.id, 1),
        findings: FINDING_LINES,
      },
    });
  });

  it('ignores the report of a stale attempt and takes the current one', async () => {
    const scan = await queued();
    await claim(scan.id, 1);
    await claim(scan.id, 2); // redelivered: the first worker is presumed dead
    const stale = await cp.worker.report(
      messages(scan.id, 1, completeReport(PACKAGES, FINDINGS.slice(0, 1))),
      {
        metadata: cp.metadata,
      },
    );
    const current = await cp.worker.report(messages(scan.id, 2, completeReport(PACKAGES, FINDINGS)), {
      metadata: cp.metadata,
    });
    expect({
      stale: { status: ScanStatus[stale.status], ignored: stale.ignored },
      current: { status: ScanStatus[current.status], ignored: current.ignored },
      outcome: await outcomeOf(scan.id),
    }).toEqual({
      stale: { status: 'RUNNING', ignored: true },
      current: { status: 'COMPLETED', ignored: false },
      outcome: {
        status: 'completed',
        attempt: 2,
        error: null,
        summary: COMPLETED_SUMMARY(scan.id, 2),
        findings: FINDING_LINES,
      },
    });
  });

  it('fails a report whose totals do not match its chunks as truncated, publishing nothing', async () => {
    const scan = await queued();
    await claim(scan.id, 1);
    const events = completeReport(PACKAGES, FINDINGS);
    // the second findings chunk never arrived
    const cut = events.filter((e) => !(e?.case === 'findings' && e.value.seq === 1));
    const response = await cp.worker.report(messages(scan.id, 1, cut), { metadata: cp.metadata });
    expect({ status: ScanStatus[response.status], outcome: await outcomeOf(scan.id) }).toEqual({
      status: 'FAILED',
      outcome: {
        status: 'failed',
        attempt: 1,
        error: {
          code: 'CP_SCAN_REPORT_TRUNCATED',
          message:
            'report truncated: findings 3 claimed, 2 received; findingsChunks 2 claimed, 1 received; low 1 claimed, 0 received; total 3 claimed, 2 received',
        },
        summary: null,
        findings: [],
      },
    });
  });

  it('keeps a scan running after a retryable failure until the last delivery, then fails it with the worker code', async () => {
    const scan = await queued();
    const failed = (attempt: number, retryable: boolean) =>
      messages(scan.id, attempt, [
        { case: 'started', value: { workerId: 'w1' } },
        { case: 'failed', value: { code: 'ENG_REGISTRY_TIMEOUT', message: 'registry timed out', retryable } },
      ]);
    const responses: string[] = [];
    for (const attempt of [1, 2, 3]) {
      await claim(scan.id, attempt);
      const r = await cp.worker.report(failed(attempt, true), { metadata: cp.metadata });
      responses.push(`${attempt}:${ScanStatus[r.status]}`);
    }
    const other = await queued();
    await claim(other.id, 1);
    const final = await cp.worker.report(
      messages(other.id, 1, [
        { case: 'started', value: {} },
        {
          case: 'failed',
          value: { code: 'ENG_IMAGE_MANIFEST_INVALID', message: 'bad manifest', retryable: false },
        },
      ]),
      { metadata: cp.metadata },
    );
    expect({
      responses,
      retried: (await outcomeOf(scan.id)).error,
      final: ScanStatus[final.status],
      other: (await outcomeOf(other.id)).error,
    }).toEqual({
      responses: ['1:RUNNING', '2:RUNNING', '3:FAILED'],
      retried: { code: 'ENG_REGISTRY_TIMEOUT', message: 'registry timed out' },
      final: 'FAILED',
      other: { code: 'ENG_IMAGE_MANIFEST_INVALID', message: 'bad manifest' },
    });
  });

  it('cancels: a cancel message reaches the workers, the worker confirms, a later completion is ignored', async () => {
    const source = cp.queue!.source();
    const heard: CancelMessage[] = [];
    source.onCancel((m) => heard.push(m));
    const confirmed = await queued();
    const raced = await queued();
    await claim(confirmed.id, 1);
    await claim(raced.id, 1);
    await cp.services.scans.cancelScan(org, confirmed.id, actor);
    await cp.services.scans.cancelScan(org, raced.id, actor);
    const confirm = await cp.worker.report(
      messages(confirmed.id, 1, [
        { case: 'started', value: {} },
        { case: 'cancelled', value: { reason: 'cancel message' } },
      ]),
      { metadata: cp.metadata },
    );
    const late = await cp.worker.report(messages(raced.id, 1, completeReport(PACKAGES, FINDINGS)), {
      metadata: cp.metadata,
    });
    await source.close();
    expect({
      heard: heard.map((m) => m.scanId).sort(),
      confirm: { status: ScanStatus[confirm.status], ignored: confirm.ignored },
      late: { status: ScanStatus[late.status], ignored: late.ignored },
      raced: await outcomeOf(raced.id),
    }).toEqual({
      heard: [confirmed.id, raced.id].sort(),
      confirm: { status: 'CANCELLED', ignored: true },
      late: { status: 'CANCELLED', ignored: true },
      raced: { status: 'cancelled', attempt: 1, error: null, summary: null, findings: [] },
    });
  });

  it('records a worker that cancelled on its own (shutdown) as cancelled', async () => {
    const scan = await queued();
    await claim(scan.id, 1);
    const r = await cp.worker.report(
      messages(scan.id, 1, [
        { case: 'started', value: {} },
        { case: 'cancelled', value: { reason: 'worker stopping' } },
      ]),
      { metadata: cp.metadata },
    );
    expect({ status: ScanStatus[r.status], scan: (await outcomeOf(scan.id)).status }).toEqual({
      status: 'CANCELLED',
      scan: 'cancelled',
    });
  });
});
