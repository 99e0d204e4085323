/**
 * Report streams that go wrong, over real gRPC on loopback with real Postgres and chdb: malformed streams
 * (INVALID_ARGUMENT with a CP code, never INTERNAL, the scan left for redelivery), a second stream of one
 * attempt, a cancel while a stream runs, and a control plane that dies between the analytics publish and the
 * Postgres completion (the redelivered attempt completes the scan once, nothing counted twice).
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ScanStatus } from '@vigil/proto/v1/scan_pb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlaneError } from '../errors.js';
import {
  completeReport,
  messages,
  openBackends,
  startServices,
  wireFinding,
  wirePackage,
  type Backends,
  type ReportInit,
  type ServiceInstance,
} from '../services/testdata/harness.js';
import type { MetadataStores, ScanRecord } from '../services/types.js';
import { remoteErrorCode } from './status.js';

let backends: Backends;
let cp: ServiceInstance;
let org: string;
const actor = { type: 'user' as const, id: null };
const digest = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;

beforeAll(async () => {
  backends = await openBackends();
  cp = await startServices(backends);
  org = (await backends.stores.orgs.createOrg({ slug: 'reports', name: 'Reports' })).id;
});
afterAll(async () => {
  await cp?.close();
  await backends?.dispose();
});

let labels = 0;
async function claimed(instance = cp): Promise<ScanRecord> {
  const { scan } = await instance.services.scans.requestScan(
    org,
    { target: { reference: `registry.test/bad@${digest(`r-${++labels}`)}` }, priority: 'ci' },
    actor,
  );
  await instance.worker.claimJob({ scanId: scan.id, attempt: 1 }, { metadata: instance.metadata });
  return scan;
}

const failure = (error: unknown) => ({
  grpc: grpc.status[(error as grpc.ServiceError).code],
  code: remoteErrorCode(error),
});
const FINDINGS = [
  wireFinding('CVE-2024-1000', 'HIGH'),
  wireFinding('CVE-2024-1001', 'MEDIUM', undefined, '3.0.9'),
];
const PACKAGES = [wirePackage('openssl')];

describe('malformed streams', () => {
  const started = { case: 'started', value: {} } as const;
  const good = completeReport(PACKAGES, FINDINGS);
  const cases: Array<[string, (scanId: string) => ReportInit[]]> = [
    ['empty stream', () => []],
    ['first event not started', (id) => messages(id, 1, good.slice(1))],
    ['message without an event', (id) => messages(id, 1, [started, { case: undefined }])],
    [
      'another scan id mid-stream',
      // another id: the last hex digit changed (to 1 when it was 0: the same id would make a valid report)
      (id) => [
        ...messages(id, 1, [started]),
        ...messages(`${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`, 1, good.slice(1)),
      ],
    ],
    [
      'another attempt mid-stream',
      (id) => [...messages(id, 1, [started]), ...messages(id, 2, good.slice(1))],
    ],
    ['second started', (id) => messages(id, 1, [started, started])],
    [
      'inventory chunk out of order',
      (id) => messages(id, 1, [started, { case: 'inventory', value: { seq: 1, packages: PACKAGES } }]),
    ],
    ['findings chunk repeated', (id) => messages(id, 1, [...good.slice(0, 4), good[3]!])],
    [
      'event after the final one',
      (id) => messages(id, 1, [...good, { case: 'progress', value: { stage: 'x' } }]),
    ],
    ['no final event', (id) => messages(id, 1, good.slice(0, -1))],
    [
      'unknown ecosystem',
      (id) =>
        messages(id, 1, [
          started,
          { case: 'inventory', value: { seq: 0, packages: [{ ...PACKAGES[0]!, ecosystem: 'cobol' }] } },
        ]),
    ],
    [
      'severity out of range',
      (id) =>
        messages(id, 1, [
          started,
          { case: 'findings', value: { seq: 0, findings: [{ ...FINDINGS[0]!, severity: 99 }] } },
        ]),
    ],
    [
      'fix state unspecified',
      (id) =>
        messages(id, 1, [
          started,
          { case: 'findings', value: { seq: 0, findings: [{ ...FINDINGS[0]!, status: 0 }] } },
        ]),
    ],
    [
      'finding without a package',
      (id) =>
        messages(id, 1, [
          started,
          { case: 'findings', value: { seq: 0, findings: [{ ...FINDINGS[0]!, package: undefined }] } },
        ]),
    ],
    [
      'cvss score 11',
      (id) =>
        messages(id, 1, [
          started,
          {
            case: 'findings',
            value: {
              seq: 0,
              findings: [
                { ...FINDINGS[0]!, cvss: { version: '3.1', vector: 'x', score: 11, source: 'nvd' } },
              ],
            },
          },
        ]),
    ],
    [
      'nested package metadata',
      (id) =>
        messages(id, 1, [
          started,
          {
            case: 'inventory',
            value: { seq: 0, packages: [{ ...PACKAGES[0]!, metadata: { deep: { no: 1 } } }] },
          },
        ]),
    ],
    [
      'failed without a code',
      (id) => messages(id, 1, [started, { case: 'failed', value: { message: 'x' } }]),
    ],
    ['attempt 0', (id) => messages(id, 0, good)],
  ];

  it('answers INVALID_ARGUMENT (CP_INVALID_ARGUMENT) and leaves the scan running for redelivery', async () => {
    const outcomes: Record<string, unknown> = {};
    const statuses = new Set<string>();
    for (const [name, build] of cases) {
      const scan = await claimed();
      outcomes[name] = await cp.worker
        .report(build(scan.id), { metadata: cp.metadata })
        .then((r) => ScanStatus[r.status], failure);
      statuses.add((await cp.services.scans.getScan(org, scan.id))!.status);
    }
    const invalid = { grpc: 'INVALID_ARGUMENT', code: 'CP_INVALID_ARGUMENT' };
    expect({ outcomes, statuses: [...statuses] }).toEqual({
      outcomes: Object.fromEntries(cases.map(([name]) => [name, invalid])),
      statuses: ['running'],
    });
  });

  it('refuses reports of unknown scans and of attempts no worker claimed', async () => {
    const { scan } = await cp.services.scans.requestScan(
      org,
      { target: { reference: `registry.test/bad@${digest('unclaimed')}` }, priority: 'ci' },
      actor,
    );
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect({
      unknown: await cp.worker
        .report(messages(unknown, 1, completeReport([], [])), { metadata: cp.metadata })
        .catch(failure),
      unclaimed: await cp.worker
        .report(messages(scan.id, 1, completeReport([], [])), { metadata: cp.metadata })
        .catch(failure),
    }).toEqual({
      unknown: { grpc: 'NOT_FOUND', code: 'CP_NOT_FOUND' },
      unclaimed: { grpc: 'FAILED_PRECONDITION', code: 'CP_SCAN_TRANSITION_INVALID' },
    });
  });
});

/** A report stream that stops after `head` until `release` is called. */
function gated(
  head: ReportInit[],
  tail: ReportInit[],
): { stream: AsyncIterable<ReportInit>; release: () => void; sent: Promise<void> } {
  let release!: () => void;
  let sent!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const headSent = new Promise<void>((resolve) => (sent = resolve));
  async function* stream() {
    yield* head;
    sent();
    await gate;
    yield* tail;
  }
  return { stream: stream(), release, sent: headSent };
}

describe('concurrency', () => {
  it('refuses a second stream of an attempt while the first runs (CP_CONFLICT), then completes with the first', async () => {
    const scan = await claimed();
    const all = messages(scan.id, 1, completeReport(PACKAGES, FINDINGS));
    const first = gated(all.slice(0, 3), all.slice(3));
    const firstCall = cp.worker.report(first.stream, { metadata: cp.metadata });
    await first.sent;
    // the started event reaches the server before the head is "sent" by the generator; wait until it is marked
    for (let i = 0; i < 100 && !(await reportStarted(scan.id)); i++)
      await new Promise((r) => setTimeout(r, 20));
    const second = await cp.worker.report(all, { metadata: cp.metadata }).catch(failure);
    first.release();
    const done = await firstCall;
    const image = await cp.services.queries.getImage(org, scan.imageId);
    expect({ second, first: ScanStatus[done.status], counts: image?.summary?.counts }).toEqual({
      second: { grpc: 'ALREADY_EXISTS', code: 'CP_CONFLICT' },
      first: 'COMPLETED',
      counts: { critical: 0, high: 1, medium: 1, low: 0, unknown: 0, total: 2 },
    });
  });

  it('publishes nothing when the scan is cancelled while its report streams', async () => {
    const scan = await claimed();
    const all = messages(scan.id, 1, completeReport(PACKAGES, FINDINGS));
    const report = gated(all.slice(0, 3), all.slice(3));
    const call = cp.worker.report(report.stream, { metadata: cp.metadata });
    await report.sent;
    for (let i = 0; i < 100 && !(await reportStarted(scan.id)); i++)
      await new Promise((r) => setTimeout(r, 20));
    await cp.services.scans.cancelScan(org, scan.id, actor);
    report.release();
    const response = await call;
    const image = await cp.services.queries.getImage(org, scan.imageId);
    const analytics = await backends.analytics.imageSummaries(org, [scan.imageId]);
    expect({
      response: { status: ScanStatus[response.status], ignored: response.ignored },
      summary: image?.summary,
      analytics: analytics.size,
    }).toEqual({ response: { status: 'CANCELLED', ignored: true }, summary: null, analytics: 0 });
  });
});

async function reportStarted(scanId: string): Promise<boolean> {
  const { rows } = await backends.db.query<{ report_attempt: number | null }>(
    'SELECT report_attempt FROM scans WHERE id = $1',
    [scanId],
  );
  return rows[0]?.report_attempt !== null;
}

describe('a control plane dying between the analytics publish and the Postgres completion', () => {
  it('leaves the scan running with its rows visible, and the redelivered attempt completes it once', async () => {
    let crash = true;
    const real = backends.stores.scans;
    const crashing: MetadataStores = {
      ...backends.stores,
      scans: {
        ...real,
        transitionScan: async (orgId, scanId, transition) => {
          if (transition.to === 'completed' && crash) {
            crash = false;
            throw new ControlPlaneError('CP_DB_UNAVAILABLE', 'database unavailable: connection terminated');
          }
          return real.transitionScan(orgId, scanId, transition);
        },
      },
    };
    const dying = await startServices(backends, { stores: crashing });
    const scan = await claimed(dying);
    const events = completeReport(PACKAGES, FINDINGS);
    const crashed = await dying.worker
      .report(messages(scan.id, 1, events), { metadata: dying.metadata })
      .catch(failure);
    await dying.close();
    const between = {
      scan: (await cp.services.scans.getScan(org, scan.id))?.status,
      postgres: (await cp.services.queries.getImage(org, scan.imageId))?.summary,
      analytics: (await backends.analytics.imageSummaries(org, [scan.imageId])).get(scan.imageId)?.attempt,
    };
    // the job is redelivered to a worker of the restarted control plane: attempt 2
    const claim = await cp.worker.claimJob({ scanId: scan.id, attempt: 2 }, { metadata: cp.metadata });
    const done = await cp.worker.report(messages(scan.id, 2, events), { metadata: cp.metadata });
    const image = await cp.services.queries.getImage(org, scan.imageId);
    const findings = await cp.services.queries.imageFindings(org, scan.imageId);
    const republished = await backends.analytics.publishScan(org, {
      scanId: scan.id,
      attempt: 2,
      digest: scan.digest,
      imageIds: [scan.imageId],
      completedAt: new Date(),
      os: null,
    });
    expect({
      crashed,
      between,
      claim: claim.proceed,
      done: ScanStatus[done.status],
      summary: { attempt: image?.summary?.attempt, counts: image?.summary?.counts },
      findings: findings.findings.length,
      republished: republished.counts,
      totals: await cp.services.queries.summary(org, { text: scan.digest.slice(7, 30) }),
    }).toEqual({
      crashed: { grpc: 'UNAVAILABLE', code: 'CP_DB_UNAVAILABLE' },
      between: { scan: 'running', postgres: null, analytics: 1 },
      claim: true,
      done: 'COMPLETED',
      summary: { attempt: 2, counts: { critical: 0, high: 1, medium: 1, low: 0, unknown: 0, total: 2 } },
      findings: 2,
      republished: { critical: 0, high: 1, medium: 1, low: 0, unknown: 0, total: 2 },
      totals: {
        images: 1,
        scannedImages: 1,
        counts: { critical: 0, high: 1, medium: 1, low: 0, unknown: 0, total: 2 },
        fixable: 1,
      },
    });
  });
});
