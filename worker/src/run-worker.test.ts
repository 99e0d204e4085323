/**
 * runWorker against real parts: a real grpc-js WorkerService peer that records every call, the
 * realdata alpine images (docker-archives, and the 3.10 one served by a loopback registry), a
 * database built from the realdata feeds with `vigil db build`, and a JobSource over a list that records what the worker does with each delivery
 * (run-worker.jetstream.e2e.test.ts runs the main flows on the real JetStream source).
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { status as grpcStatus } from '@grpc/grpc-js';
import { ArtifactKind, FixState, Severity, type Finding, type Package } from '@vigil/proto/v1/model_pb';
import { ScanStatus } from '@vigil/proto/v1/scan_pb';
import type { InventoryChunk } from '@vigil/proto/v1/worker_pb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runVigil } from '../../test/support/cli.js';
import { hasRealdata, realdata } from '../../test/support/realdata.js';
import { createWorkerLogger } from './logger.js';
import { runWorker } from './run-worker.js';
import { ArrayJobSource, scanJob } from './testdata/array-job-source.js';
import { writeBigArchive } from './testdata/big-archive.js';
import { eventsOf, terminalKinds } from './testdata/recording-control-plane.js';
import {
  ALPINE_310,
  ALPINE_311,
  startWorkerFixture,
  TOKEN,
  WAIT,
  type WorkerFixture,
} from './testdata/worker-fixture.js';

interface JsonReport {
  artifact: { os?: { family: string; version: string } };
  db: { version: string };
  packages: Record<string, string | undefined>[];
  vulnerabilities: Record<string, unknown>[];
  summary: Record<string, number>;
}

const SEVERITY_NAME: Record<number, string> = {
  [Severity.CRITICAL]: 'CRITICAL',
  [Severity.HIGH]: 'HIGH',
  [Severity.MEDIUM]: 'MEDIUM',
  [Severity.LOW]: 'LOW',
  [Severity.UNKNOWN]: 'UNKNOWN',
};
const FIX_STATE_NAME: Record<number, string> = {
  [FixState.FIXED]: 'fixed',
  [FixState.UNFIXED]: 'unfixed',
  [FixState.WILL_NOT_FIX]: 'will-not-fix',
  [FixState.NOT_AFFECTED]: 'not-affected',
};
const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
/** The JSON report's package fields, from a wire package. */
const packageView = (p: Package) => {
  const view: Record<string, string | undefined> = {
    name: p.name,
    version: p.version,
    ecosystem: p.ecosystem,
    purl: p.purl,
    srcName: p.srcName,
    srcVersion: p.srcVersion,
    layer: p.layer,
    path: p.path,
  };
  for (const k of Object.keys(view)) if (view[k] === undefined) delete view[k];
  return { ...view, key: `${p.name}@${p.version}:${p.path ?? ''}` };
};
const findingView = (f: Finding) => ({
  id: f.id,
  pkgName: f.package!.name,
  installedVersion: f.installedVersion,
  fixedVersion: f.fixedVersion ?? null,
  severity: SEVERITY_NAME[f.severity],
  status: FIX_STATE_NAME[f.status],
  key: `${f.id}:${f.package!.name}`,
});

describe.skipIf(!hasRealdata)('runWorker', () => {
  let fx: WorkerFixture;
  beforeAll(async () => {
    fx = await startWorkerFixture();
  }, 120_000);
  afterEach(() => fx.reset());
  afterAll(() => fx?.close());

  it('streams started, progress, inventory chunks, findings and completed per job, equal to `vigil image --format json`', async () => {
    const logLines: string[] = [];
    const logs = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    const source = new ArrayJobSource();
    source.push(scanJob('scan-310', ALPINE_310));
    source.push(scanJob('scan-311', `docker-archive:${ALPINE_311}`));
    const worker = await fx.start(source, {
      logger: createWorkerLogger({ level: 'debug', destination: logs }),
      inventoryChunks: { maxItems: 5 },
    });
    await vi.waitFor(() => expect(source.settlements).toHaveLength(2), WAIT);

    for (const [scanId, image] of [
      ['scan-310', ALPINE_310],
      ['scan-311', ALPINE_311],
    ] as const) {
      const cli = await runVigil([
        'image',
        '--input',
        image,
        '--db',
        fx.db,
        '-f',
        'json',
        '-q',
        '--no-cache',
      ]);
      expect(cli.code).toBe(0);
      const report = JSON.parse(cli.stdout) as JsonReport;
      const stream = fx.streamOf(scanId);
      const inventory = eventsOf(stream, 'inventory');
      const findings = eventsOf(stream, 'findings');
      const [started] = eventsOf(stream, 'started');
      const [completed] = eventsOf(stream, 'completed');
      const packages = inventory.flatMap((c: InventoryChunk) => c.packages).map(packageView);

      expect({
        kinds: terminalKinds(stream),
        ending: stream.ending,
        authorization: stream.authorization,
        attempts: [...new Set(stream.requests.map((r) => `${r.scanId}#${r.attempt}`))],
        started: { workerId: started!.workerId, dbVersion: started!.dbVersion },
        seqs: inventory.map((c) => c.seq),
        artifactIn: inventory.map((c) => c.artifact !== undefined),
        os: { family: inventory[0]!.os!.family, version: inventory[0]!.os!.version },
        packages: packages.sort(byKey).map(({ key: _key, ...p }) => p),
        vulnerabilities: findings
          .flatMap((c) => c.findings)
          .map(findingView)
          .sort(byKey)
          .map(({ key: _key, ...v }) => v),
        completed: {
          partial: completed!.partial,
          packages: completed!.packages,
          findings: completed!.findings,
          inventoryChunks: completed!.inventoryChunks,
          findingsChunks: completed!.findingsChunks,
          counts: { ...completed!.counts, $typeName: undefined },
        },
      }).toEqual({
        kinds: [
          'started',
          ...Array.from({ length: Math.ceil(report.packages.length / 5) }, () => 'inventory'),
          'findings',
          'completed',
        ],
        ending: 'end',
        authorization: `Bearer ${TOKEN}`,
        attempts: [`${scanId}#1`],
        started: { workerId: 'worker-a', dbVersion: report.db.version },
        seqs: inventory.map((_, i) => i),
        artifactIn: inventory.map((_, i) => i === 0),
        os: report.artifact.os,
        packages: report.packages
          .map((p) => ({ ...p, key: `${p.name}@${p.version}:${p.path ?? ''}` }))
          .sort(byKey)
          .map(({ key: _key, ...p }) => p),
        vulnerabilities: report.vulnerabilities
          .map((v) => ({
            id: v.id,
            pkgName: v.pkgName,
            installedVersion: v.installedVersion,
            fixedVersion: v.fixedVersion,
            severity: v.severity,
            status: v.status,
            key: `${v.id as string}:${v.pkgName as string}`,
          }))
          .sort(byKey)
          .map(({ key: _key, ...v }) => v),
        completed: {
          partial: false,
          packages: report.packages.length,
          findings: report.vulnerabilities.length,
          inventoryChunks: inventory.length,
          findingsChunks: 1,
          counts: { ...report.summary, $typeName: undefined },
        },
      });
      expect(report.vulnerabilities.length).toBeGreaterThan(0);
      // progress runs between started and completed and ends with matching done
      const progress = eventsOf(stream, 'progress');
      expect(progress.filter((p) => p.stage === 'match').at(-1)).toMatchObject({
        done: BigInt(report.packages.length),
        total: BigInt(report.packages.length),
      });
    }
    expect({
      claims: fx.plane.claims
        .map((c) => ({ scanId: c.scanId, attempt: c.attempt, workerId: c.workerId, auth: c.authorization }))
        .sort((a, b) => a.scanId.localeCompare(b.scanId)),
      settlements: [...source.settlementsOf('scan-310'), ...source.settlementsOf('scan-311')],
      metrics: worker.metrics(),
    }).toEqual({
      claims: ['scan-310', 'scan-311'].map((scanId) => ({
        scanId,
        attempt: 1,
        workerId: 'worker-a',
        auth: `Bearer ${TOKEN}`,
      })),
      settlements: [
        { scanId: 'scan-310', attempt: 1, action: 'ack' },
        { scanId: 'scan-311', attempt: 1, action: 'ack' },
      ],
      metrics: {
        received: 2,
        inFlight: 0,
        waitingForControlPlane: 0,
        outcomes: { completed: 2, failed: 0, cancelled: 0, dropped: 0, retry: 0, requeued: 0 },
        cancelStop: { count: 0, totalMs: 0, maxMs: 0 },
        settleErrors: 0,
      },
    });
    const logText = logLines.join('');
    expect(logText).toContain('"msg":"scan completed"');
    expect(logText).not.toContain(TOKEN);
  });

  it('scans an OCI layout directory without packages: one inventory chunk with the artifact, one empty findings chunk', async () => {
    const layout = realdata('images/oci-layout/trivy-hello-world-oci');
    const source = new ArrayJobSource();
    source.push(scanJob('scan-oci', layout));
    await fx.start(source);
    await vi.waitFor(() => expect(source.settlements).toHaveLength(1), WAIT);
    const stream = fx.streamOf('scan-oci');
    const [inventory] = eventsOf(stream, 'inventory');
    const [completed] = eventsOf(stream, 'completed');
    expect({
      kinds: terminalKinds(stream),
      artifact: {
        name: inventory!.artifact!.name,
        kind: inventory!.artifact!.kind,
        digest: inventory!.artifact!.digest,
      },
      packages: inventory!.packages.length,
      findings: eventsOf(stream, 'findings').map((c) => c.findings.length),
      completed: {
        packages: completed!.packages,
        findings: completed!.findings,
        total: completed!.counts!.total,
      },
      settlements: source.settlementsOf('scan-oci'),
    }).toEqual({
      kinds: ['started', 'inventory', 'findings', 'completed'],
      artifact: {
        name: layout,
        kind: ArtifactKind.OCI_LAYOUT,
        digest: 'sha256:afb744871f99e0ff8e6f253244836ed34c5d805fdb096d3a205ffaf5e9073cab',
      },
      packages: 0,
      findings: [0],
      completed: { packages: 0, findings: 0, total: 0 },
      settlements: [{ scanId: 'scan-oci', attempt: 1, action: 'ack' }],
    });
  });

  it('acknowledges and drops a job the control plane will not run (proceed=false), without a Report stream', async () => {
    fx.plane.onClaim = () => ({ proceed: false, status: ScanStatus.CANCELLED });
    const source = new ArrayJobSource();
    source.push(scanJob('scan-dropped', ALPINE_310));
    const worker = await fx.start(source);
    await vi.waitFor(() => expect(source.settlements).toHaveLength(1), WAIT);
    expect({
      settlements: source.settlementsOf('scan-dropped'),
      streams: fx.plane.streams.length,
      dropped: worker.metrics().outcomes.dropped,
    }).toEqual({
      settlements: [{ scanId: 'scan-dropped', attempt: 1, action: 'ack' }],
      streams: 0,
      dropped: 1,
    });
  });

  it('reports a retryable registry failure, gives the job back with a delay, and fails it for good on the last attempt', async () => {
    fx.registry.manifestStatus = 503;
    const source = new ArrayJobSource({ maxDeliver: 2, redeliver: true });
    source.push(scanJob('scan-503', fx.registry.ref));
    await fx.start(source);
    await vi.waitFor(() => expect(source.settlements).toHaveLength(2), WAIT);
    expect({
      settlements: source.settlementsOf('scan-503'),
      streams: [1, 2].map((attempt) => ({
        kinds: terminalKinds(fx.streamOf('scan-503', attempt)),
        failed: eventsOf(fx.streamOf('scan-503', attempt), 'failed').map(({ code, retryable }) => ({
          code,
          retryable,
        })),
      })),
    }).toEqual({
      settlements: [
        { scanId: 'scan-503', attempt: 1, action: 'nak', delayMs: 100 },
        { scanId: 'scan-503', attempt: 2, action: 'ack' },
      ],
      streams: [
        { kinds: ['started', 'failed'], failed: [{ code: 'ENG_REGISTRY_SERVER_ERROR', retryable: true }] },
        { kinds: ['started', 'failed'], failed: [{ code: 'ENG_REGISTRY_SERVER_ERROR', retryable: false }] },
      ],
    });
  });

  it('fails a job for good when its image does not exist', async () => {
    const source = new ArrayJobSource();
    source.push(scanJob('scan-missing', join(fx.work, 'no-such-image.tar')));
    const worker = await fx.start(source);
    await vi.waitFor(() => expect(source.settlements).toHaveLength(1), WAIT);
    expect({
      settlements: source.settlementsOf('scan-missing'),
      failed: eventsOf(fx.streamOf('scan-missing'), 'failed').map(({ code, retryable }) => ({
        code,
        retryable,
      })),
      failedCount: worker.metrics().outcomes.failed,
    }).toEqual({
      settlements: [{ scanId: 'scan-missing', attempt: 1, action: 'ack' }],
      failed: [{ code: 'ENG_IMAGE_SOURCE_NOT_FOUND', retryable: false }],
      failedCount: 1,
    });
  });

  it('gives a job back when the control plane answers the claim or the stream with an error, drops it when the attempt is stale, and waits while it answers UNAVAILABLE', async () => {
    let dbDown = 2;
    fx.plane.onClaim = (request) => {
      if (request.scanId === 'scan-claim-error') throw { code: grpcStatus.INTERNAL, details: 'bug' };
      // e.g. CP_DB_UNAVAILABLE: the control plane cannot record the claim now
      if (request.scanId === 'scan-db-down' && dbDown-- > 0) {
        throw { code: grpcStatus.UNAVAILABLE, details: 'database down', vigilCode: 'CP_DB_UNAVAILABLE' };
      }
      return { proceed: true, status: ScanStatus.RUNNING };
    };
    fx.plane.onReport = (request) => {
      if (request.scanId === 'scan-stream-error') throw { code: grpcStatus.INTERNAL, details: 'bug' };
      if (request.scanId === 'scan-stale' && request.event.case === 'inventory') {
        throw { code: grpcStatus.ABORTED, details: 'stale', vigilCode: 'CP_SCAN_ATTEMPT_STALE' };
      }
    };
    const ids = ['scan-claim-error', 'scan-stream-error', 'scan-stale', 'scan-db-down'];
    const source = new ArrayJobSource();
    for (const id of ids) source.push(scanJob(id, ALPINE_310));
    const worker = await fx.start(source, { concurrency: 4, controlPlaneRetryMaxMs: 100 });
    await vi.waitFor(() => expect(source.settlements).toHaveLength(4), WAIT);
    expect({
      settlements: ids.flatMap((id) => source.settlementsOf(id)),
      dbDownClaims: fx.plane.claims.filter((c) => c.scanId === 'scan-db-down').map((c) => c.attempt),
      endings: ['scan-stream-error', 'scan-stale', 'scan-db-down'].map((id) => fx.streamOf(id).ending),
      outcomes: worker.metrics().outcomes,
    }).toEqual({
      settlements: [
        { scanId: 'scan-claim-error', attempt: 1, action: 'nak', delayMs: 100 },
        { scanId: 'scan-stream-error', attempt: 1, action: 'nak', delayMs: 100 },
        { scanId: 'scan-stale', attempt: 1, action: 'ack' },
        { scanId: 'scan-db-down', attempt: 1, action: 'ack' },
      ],
      dbDownClaims: [1, 1, 1],
      endings: ['failed', 'failed', 'end'],
      outcomes: { completed: 1, failed: 0, cancelled: 0, dropped: 1, retry: 0, requeued: 2 },
    });
  });

  it('holds its jobs through a control-plane outage (heartbeating, taking no new ones) and completes each once when it is back', async () => {
    fx.plane.down();
    const source = new ArrayJobSource();
    const worker = await fx.start(source, { concurrency: 4, heartbeatMs: 20, controlPlaneRetryMaxMs: 100 });
    source.push(scanJob('scan-out1', ALPINE_310));
    await vi.waitFor(() => expect(worker.metrics().waitingForControlPlane).toBe(1), WAIT);
    // the consumer was already waiting for a job when the outage began: it runs this one, then pauses
    source.push(scanJob('scan-out2', ALPINE_310));
    await vi.waitFor(() => expect(worker.metrics().waitingForControlPlane).toBe(2), WAIT);
    source.push(scanJob('scan-out3', ALPINE_310));
    source.push(scanJob('scan-out4', ALPINE_310));
    // the outage: long past the retry delays that used to give every job back (100 ms × attempt)
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const during = {
      taken: source.taken.map((t) => t.scanId),
      pending: source.pending,
      settlements: source.settlements.length,
      heartbeats: ['scan-out1', 'scan-out2'].map((id) => (source.heartbeats.get(id) ?? 0) > 0),
    };
    await fx.plane.up();
    await vi.waitFor(() => expect(source.settlements).toHaveLength(4), WAIT);
    const ids = ['scan-out1', 'scan-out2', 'scan-out3', 'scan-out4'];
    expect({
      during,
      settlements: ids.flatMap((id) => source.settlementsOf(id)),
      claims: ids.map((id) => fx.plane.claims.filter((c) => c.scanId === id).map((c) => c.attempt)),
      kinds: ids.map((id) => terminalKinds(fx.streamOf(id)).filter((k) => k !== 'inventory')),
      streams: fx.plane.streams.length,
      metrics: { ...worker.metrics(), cancelStop: undefined },
    }).toEqual({
      during: { taken: ['scan-out1', 'scan-out2'], pending: 2, settlements: 0, heartbeats: [true, true] },
      settlements: ids.map((scanId) => ({ scanId, attempt: 1, action: 'ack' })),
      claims: ids.map(() => [1]),
      kinds: ids.map(() => ['started', 'findings', 'completed']),
      streams: 4,
      metrics: {
        received: 4,
        inFlight: 0,
        waitingForControlPlane: 0,
        outcomes: { completed: 4, failed: 0, cancelled: 0, dropped: 0, retry: 0, requeued: 0 },
        cancelStop: undefined,
        settleErrors: 0,
      },
    });
  });

  it('sends a Report stream the outage cut again from the start once the control plane is back, without scanning again', async () => {
    fx.holdLayers();
    const source = new ArrayJobSource();
    source.push(scanJob('scan-cut', fx.registry.ref));
    const worker = await fx.start(source, { controlPlaneRetryMaxMs: 100 });
    await vi.waitFor(() => expect(fx.registry.layerRequests).toBe(1), WAIT);
    fx.plane.down();
    fx.openGate();
    await vi.waitFor(() => expect(worker.metrics().waitingForControlPlane).toBe(1), WAIT);
    await fx.plane.up();
    await vi.waitFor(() => expect(source.settlements).toHaveLength(1), WAIT);
    expect({
      claims: fx.plane.claims.map((c) => c.attempt),
      streams: fx.plane.streams.map((stream) => ({
        attempts: [...new Set(stream.requests.map((r) => r.attempt))],
        kinds: terminalKinds(stream).filter((k) => k !== 'inventory'),
        // the scan's own progress (layers, analyze) only in the first stream: the second sends its result
        scanProgress: eventsOf(stream, 'progress').some((p) => p.stage !== 'match'),
      })),
      settlements: source.settlementsOf('scan-cut'),
      outcomes: worker.metrics().outcomes,
    }).toEqual({
      claims: [1, 1],
      streams: [
        { attempts: [1], kinds: ['started'], scanProgress: true },
        { attempts: [1], kinds: ['started', 'findings', 'completed'], scanProgress: false },
      ],
      settlements: [{ scanId: 'scan-cut', attempt: 1, action: 'ack' }],
      outcomes: { completed: 1, failed: 0, cancelled: 0, dropped: 0, retry: 0, requeued: 0 },
    });
  });

  it('acknowledges a job cancelled while it waits for the control plane, and gives one back at once on shutdown', async () => {
    fx.plane.down();
    const source = new ArrayJobSource();
    source.push(scanJob('scan-wait-cancel', ALPINE_310));
    source.push(scanJob('scan-wait-stop', ALPINE_310));
    const worker = await fx.start(source, { concurrency: 2, controlPlaneRetryMaxMs: 100 });
    await vi.waitFor(() => expect(worker.metrics().waitingForControlPlane).toBe(2), WAIT);
    source.cancel('scan-wait-cancel', 'cancelled during the outage');
    await vi.waitFor(() => expect(source.settlements).toHaveLength(1), WAIT);
    await worker.stop();
    expect({
      settlements: ['scan-wait-cancel', 'scan-wait-stop'].flatMap((id) => source.settlementsOf(id)),
      outcomes: worker.metrics().outcomes,
      waiting: worker.metrics().waitingForControlPlane,
    }).toEqual({
      settlements: [
        { scanId: 'scan-wait-cancel', attempt: 1, action: 'ack' },
        { scanId: 'scan-wait-stop', attempt: 1, action: 'nak', delayMs: 0 },
      ],
      outcomes: { completed: 0, failed: 0, cancelled: 1, dropped: 0, retry: 0, requeued: 1 },
      waiting: 0,
    });
  });

  it('cancels a scan stuck in a slow layer download: aborts it, streams cancelled, acknowledges; heartbeats meanwhile', async () => {
    fx.holdLayers();
    const source = new ArrayJobSource();
    source.push(scanJob('scan-slow', fx.registry.ref));
    const worker = await fx.start(source, { heartbeatMs: 20 });
    await vi.waitFor(() => {
      expect(fx.registry.layerRequests).toBe(1);
      expect(source.heartbeats.get('scan-slow')).toBeGreaterThanOrEqual(2);
    }, WAIT);
    const cancelAt = performance.now();
    source.cancel('scan-slow', 'cancelled by alice');
    await vi.waitFor(() => expect(source.settlements).toHaveLength(1), WAIT);
    console.log(
      `cancel → acknowledged (slow download): ${(source.settlements[0]!.at - cancelAt).toFixed(1)} ms`,
    );
    const stream = fx.streamOf('scan-slow');
    expect({
      kinds: terminalKinds(stream),
      cancelled: eventsOf(stream, 'cancelled').map((c) => c.reason),
      ending: stream.ending,
      settlements: source.settlementsOf('scan-slow'),
      cancelStops: worker.metrics().cancelStop.count,
    }).toEqual({
      kinds: ['started', 'cancelled'],
      cancelled: ['cancelled by alice'],
      ending: 'end',
      settlements: [{ scanId: 'scan-slow', attempt: 1, action: 'ack' }],
      cancelStops: 1,
    });
  });

  it('cancels a scan during the layer walk of a large docker-archive', async () => {
    const big = await writeBigArchive(fx.work, 2, 384 * 1024 * 1024);
    const source = new ArrayJobSource();
    let cancelAt = 0;
    fx.plane.onReport = (request) => {
      const progress = request.event.case === 'progress' ? request.event.value : undefined;
      if (progress?.stage === 'analyze' && progress.done > 0n && cancelAt === 0) {
        cancelAt = performance.now();
        source.cancel('scan-big', 'cancelled mid-walk');
      }
    };
    source.push(scanJob('scan-big', big));
    await fx.start(source, { cacheDir: undefined });
    await vi.waitFor(() => expect(source.settlements).toHaveLength(1), WAIT);
    console.log(
      `cancel → acknowledged (layer walk): ${(source.settlements[0]!.at - cancelAt).toFixed(1)} ms`,
    );
    expect({
      kinds: terminalKinds(fx.streamOf('scan-big')),
      settlements: source.settlementsOf('scan-big'),
    }).toEqual({
      kinds: ['started', 'cancelled'],
      settlements: [{ scanId: 'scan-big', attempt: 1, action: 'ack' }],
    });
  });

  it('fails a scan that runs past its timeout as retryable and gives the job back', async () => {
    fx.holdLayers();
    const source = new ArrayJobSource();
    source.push(scanJob('scan-timeout', fx.registry.ref));
    await fx.start(source, { scanTimeoutMs: 300 });
    await vi.waitFor(() => expect(source.settlements).toHaveLength(1), WAIT);
    expect({
      failed: eventsOf(fx.streamOf('scan-timeout'), 'failed').map(({ code, retryable }) => ({
        code,
        retryable,
      })),
      settlements: source.settlementsOf('scan-timeout'),
    }).toEqual({
      failed: [{ code: 'WRK_SCAN_TIMEOUT', retryable: true }],
      settlements: [{ scanId: 'scan-timeout', attempt: 1, action: 'nak', delayMs: 100 }],
    });
  });

  it('runs at most `concurrency` jobs and takes the next one only when a slot frees', async () => {
    fx.holdLayers();
    const source = new ArrayJobSource();
    for (let i = 1; i <= 5; i++) source.push(scanJob(`scan-c${i}`, fx.registry.ref));
    const worker = await fx.start(source, { concurrency: 2 });
    await vi.waitFor(() => expect(fx.registry.layerRequests).toBe(2), WAIT);
    const whileFull = {
      taken: source.taken.map((t) => t.scanId),
      pending: source.pending,
      inFlight: worker.metrics().inFlight,
    };
    source.cancel('scan-c1');
    await vi.waitFor(() => expect(fx.registry.layerRequests).toBe(3), WAIT);
    const afterCancel = { taken: source.taken.map((t) => t.scanId), pending: source.pending };
    fx.openGate();
    await vi.waitFor(() => expect(source.settlements).toHaveLength(5), WAIT);
    expect({ whileFull, afterCancel, maxOut: source.maxOut, outcomes: worker.metrics().outcomes }).toEqual({
      whileFull: { taken: ['scan-c1', 'scan-c2'], pending: 3, inFlight: 2 },
      afterCancel: { taken: ['scan-c1', 'scan-c2', 'scan-c3'], pending: 2 },
      maxOut: 2,
      outcomes: { completed: 4, failed: 0, cancelled: 1, dropped: 0, retry: 0, requeued: 0 },
    });
  });

  it('drain lets running jobs finish within the timeout and takes no more jobs', async () => {
    fx.holdLayers();
    const source = new ArrayJobSource();
    source.push(scanJob('scan-d1', fx.registry.ref));
    source.push(scanJob('scan-d2', fx.registry.ref));
    const worker = await fx.start(source, { concurrency: 1 });
    await vi.waitFor(() => expect(fx.registry.layerRequests).toBe(1), WAIT);
    const drained = worker.drain(120_000);
    fx.openGate();
    await drained;
    expect({
      kinds: terminalKinds(fx.streamOf('scan-d1')),
      settlements: source.settlements.map(({ at: _at, ...s }) => s),
      taken: source.taken.map((t) => t.scanId),
      pending: source.pending,
    }).toEqual({
      kinds: ['started', 'inventory', 'findings', 'completed'],
      settlements: [{ scanId: 'scan-d1', attempt: 1, action: 'ack' }],
      taken: ['scan-d1'],
      pending: 1,
    });
  });

  it('drain past its timeout stops the running jobs, cuts their streams short and gives them back at once', async () => {
    fx.holdLayers();
    const source = new ArrayJobSource();
    source.push(scanJob('scan-s1', fx.registry.ref));
    source.push(scanJob('scan-s2', fx.registry.ref));
    const worker = await fx.start(source, { concurrency: 2 });
    await vi.waitFor(() => expect(fx.registry.layerRequests).toBe(2), WAIT);
    await worker.drain(50);
    // no terminal event: the control plane keeps nothing of the attempts (grpc-js may show such a
    // server stream an 'end' before its 'cancelled', so the events are what tells)
    expect({
      settlements: ['scan-s1', 'scan-s2'].flatMap((id) => source.settlementsOf(id)),
      terminal: ['scan-s1', 'scan-s2'].map((id) => terminalKinds(fx.streamOf(id))),
      outcomes: worker.metrics().outcomes,
    }).toEqual({
      settlements: [
        { scanId: 'scan-s1', attempt: 1, action: 'nak', delayMs: 0 },
        { scanId: 'scan-s2', attempt: 1, action: 'nak', delayMs: 0 },
      ],
      terminal: [['started'], ['started']],
      outcomes: { completed: 0, failed: 0, cancelled: 0, dropped: 0, retry: 0, requeued: 2 },
    });
  });

  it('refuses invalid options and a missing database with coded errors', async () => {
    const source = new ArrayJobSource();
    const base = { source, controlPlane: { address: fx.plane.address, token: TOKEN }, dbPath: fx.db };
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'started',
        (e: { code?: string }) => e.code,
      );
    expect({
      concurrency: await codeOf(runWorker({ ...base, concurrency: 0 })),
      token: await codeOf(runWorker({ ...base, controlPlane: { address: fx.plane.address, token: '' } })),
      db: await codeOf(runWorker({ ...base, dbPath: join(fx.work, 'missing.db') })),
    }).toEqual({ concurrency: 'WRK_CONFIG_INVALID', token: 'WRK_CONFIG_INVALID', db: 'ENG_DB_NOT_FOUND' });
  });
});
