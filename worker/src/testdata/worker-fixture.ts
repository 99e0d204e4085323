/**
 * Test support (not built): what every runWorker test file needs — a database built from the realdata feeds
 * with `vigil db build` (once per file), the recording WorkerService peer, the scripted registry serving the
 * realdata alpine:3.10 image, and `start()` for workers on them that `reset()` stops after each test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanStatus } from '@vigil/proto/v1/scan_pb';
import { runVigil } from '../../../test/support/cli.js';
import { realdata } from '../../../test/support/realdata.js';
import { createWorkerLogger } from '../logger.js';
import type { JobSource } from '../queue/types.js';
import { runWorker, type WorkerHandle, type WorkerOptions } from '../run-worker.js';
import {
  startRecordingControlPlane,
  type RecordedStream,
  type RecordingControlPlane,
} from './recording-control-plane.js';
import { startScriptedRegistry, type ScriptedRegistry } from './scripted-registry.js';

export const ALPINE_310 = realdata('images/docker-archive/trivy-alpine-3.10-docker-save.tar.gz');
export const ALPINE_311 = realdata('images/docker-archive/trivy-alpine-3.11-docker-save.tar.gz');
export const TOKEN = 'worker-secret-token';
/** vi.waitFor options: generous (the machine is shared), polling often */
export const WAIT = { timeout: 60_000, interval: 20 };

export interface WorkerFixture {
  work: string;
  db: string;
  plane: RecordingControlPlane;
  registry: ScriptedRegistry;
  /** a worker on the fixture (its own layer cache dir, silent logs, quick progress and retries), stopped by reset */
  start(source: JobSource, extra?: Partial<WorkerOptions>): Promise<WorkerHandle>;
  /** holds layer downloads halfway until `openGate()` (or the end of the test) */
  holdLayers(): void;
  openGate(): void;
  /** the Report stream of this scan attempt */
  streamOf(scanId: string, attempt?: number): RecordedStream;
  /** stops the workers and resets the peer (up again after an outage) and the registry */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startWorkerFixture(): Promise<WorkerFixture> {
  const work = await mkdtemp(join(tmpdir(), 'vigil-worker-'));
  const db = join(work, 'vigil.db');
  const build = await runVigil(['db', 'build', '--from', realdata('feeds'), '--out', db, '-q']);
  if (build.code !== 0) throw new Error(`vigil db build failed: ${build.stderr}`);
  const plane = await startRecordingControlPlane();
  const registry = await startScriptedRegistry(ALPINE_310);
  const workers: WorkerHandle[] = [];
  let openGate = () => {};
  return {
    work,
    db,
    plane,
    registry,
    async start(source, extra = {}) {
      const worker = await runWorker({
        source,
        controlPlane: { address: plane.address, token: TOKEN },
        dbPath: db,
        // a cache per worker: a layer cached by one test would skip the download another one holds
        cacheDir: await mkdtemp(join(work, 'cache-')),
        registry: { insecureRegistries: [registry.host], retries: 0, dockerConfigPath: '/nonexistent' },
        concurrency: 2,
        workerId: 'worker-a',
        logger: createWorkerLogger({ level: 'silent' }),
        progressIntervalMs: 50,
        retryDelayMs: (attempt) => 100 * attempt,
        ...extra,
      });
      workers.push(worker);
      return worker;
    },
    holdLayers() {
      registry.layerGate = new Promise<void>((resolve) => (openGate = resolve));
    },
    openGate: () => openGate(),
    streamOf(scanId, attempt = 1) {
      const stream = plane.streams.find(
        (s) => s.requests[0]?.scanId === scanId && s.requests[0]?.attempt === attempt,
      );
      if (!stream) throw new Error(`no Report stream for ${scanId} attempt ${attempt}`);
      return stream;
    },
    async reset() {
      openGate();
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      await plane.up();
      plane.claims.length = 0;
      plane.streams.length = 0;
      plane.onClaim = () => ({ proceed: true, status: ScanStatus.RUNNING });
      plane.onReport = () => {};
      registry.manifestStatus = undefined;
      registry.layerGate = undefined;
      registry.layerRequests = 0;
    },
    async close() {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      await plane.stop();
      await registry.stop();
      await rm(work, { recursive: true, force: true });
    },
  };
}
