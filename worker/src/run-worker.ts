/**
 * `runWorker`: one worker process's runtime. It keeps the vulnerability database snapshots open read-only
 * (snapshot/: each job leases the current one for its whole run; a new one from the control plane is swapped
 * in for later jobs), shares one layer cache and one gRPC channel to the control plane between its jobs, and
 * runs the consumer loop over the given JobSource with the scan-job handler. While the control plane is
 * unreachable, jobs keep their deliveries and wait for it, and no new jobs are taken (grpc/control-plane-link.ts).
 * The caller owns the source (it closes it after `drain`/`stop` resolved) and wires signals: SIGTERM →
 * `drain(timeout)`.
 */
import { availableParallelism, hostname } from 'node:os';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { FsLayerCache, type LayerCache, type RegistryOptions, type ScanLimits } from '@vigil/engine/core';
import type { Logger } from 'pino';
import { Consumer } from './consumer.js';
import { WorkerError } from './errors.js';
import { ControlPlaneLink } from './grpc/control-plane-link.js';
import { createWorkerClient } from './grpc/worker-client.js';
import { DEFAULT_CHUNK_LIMITS, type ChunkLimits } from './jobs/chunks.js';
import { runRematchJob } from './jobs/rematch.js';
import { runScanJob, type ScanJobContext } from './jobs/scan-image.js';
import { createWorkerLogger } from './logger.js';
import { MetricsRecorder, type WorkerMetrics } from './metrics.js';
import type { JobSource } from './queue/types.js';
import { SnapshotFollower, type SnapshotSource } from './snapshot/index.js';

/** Registry pulls: plain-HTTP hosts, credentials, CA file, timeouts (the engine's registry options). */
export type WorkerRegistryOptions = Omit<RegistryOptions, 'platform' | 'signal' | 'dispatcher'>;

export interface WorkerOptions {
  /** where jobs and cancel signals come from (JetStream, or the all-in-one in-process queue) */
  source: JobSource;
  controlPlane: {
    /** `host:port` of the control plane's gRPC server */
    address: string;
    /** the worker token, sent as `authorization: Bearer <token>` (never logged) */
    token: string;
    /** default: plaintext */
    credentials?: ChannelCredentials;
  };
  /** a vulnerability database snapshot file to start with (opened read-only); required without `snapshots` */
  dbPath?: string | null;
  /** where newer snapshots come from: the control plane over HTTP (fleet) or its own file (all-in-one) */
  snapshots?: SnapshotSource;
  /** layer cache directory shared by all jobs (FsLayerCache); `cache` takes precedence */
  cacheDir?: string;
  cache?: LayerCache;
  registry?: WorkerRegistryOptions;
  /** jobs at once (default: the number of cores) */
  concurrency?: number;
  /** default `<hostname>-<pid>` */
  workerId?: string;
  /** default: a pino logger on stdout with secrets redacted (createWorkerLogger) */
  logger?: Logger;
  /** scan size and file limits (the engine's defaults otherwise) */
  limits?: Partial<ScanLimits>;
  tmpDir?: string;
  /** `working()` heartbeat interval (default 10 s; keep it well under the queue's ack wait) */
  heartbeatMs?: number;
  /** at most one progress batch per interval (default 500 ms) */
  progressIntervalMs?: number;
  /** a scan running longer fails with WRK_SCAN_TIMEOUT, retryable (default 30 min; 0 = none) */
  scanTimeoutMs?: number;
  /** redelivery delay after attempt n (default 2 s × 2^(n-1), at most 5 min) */
  retryDelayMs?: (attempt: number) => number;
  /**
   * while the control plane is unreachable: the longest wait between a job's tries (they double from 250 ms)
   * and between the channel's reconnection attempts (default 10 s)
   */
  controlPlaneRetryMaxMs?: number;
  inventoryChunks?: Partial<ChunkLimits>;
  findingsChunks?: Partial<ChunkLimits>;
}

export interface WorkerHandle {
  readonly workerId: string;
  /** the snapshot version jobs starting now match against (it changes when a new one is swapped in) */
  readonly dbVersion: string;
  /** counters of this process (a copy) */
  metrics(): WorkerMetrics;
  /**
   * Stops taking jobs, lets running jobs finish within `timeoutMs`, then stops the rest and gives
   * their jobs back for redelivery; closes the channel and the database. Resolves when all is done.
   */
  drain(timeoutMs: number): Promise<void>;
  /** `drain(0)`: running jobs are stopped at once and given back. */
  stop(): Promise<void>;
  /** resolves when the worker ended (drained, stopped, or its source closed) */
  readonly done: Promise<void>;
}

const positiveInt = (name: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) {
    throw new WorkerError('WRK_CONFIG_INVALID', `${name} must be a positive integer, got ${String(value)}`);
  }
  return v;
};

const defaultRetryDelay = (attempt: number) => Math.min(2_000 * 2 ** Math.max(0, attempt - 1), 300_000);

/**
 * Starts a worker on `options.source`.
 * @throws WRK_CONFIG_INVALID for invalid options, ENG_DB_NOT_FOUND / ENG_DB_CORRUPT /
 *   ENG_DB_SCHEMA_UNSUPPORTED when the database cannot be opened, WRK_SNAPSHOT_UNAVAILABLE /
 *   WRK_SNAPSHOT_INVALID when none could be downloaded
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const concurrency = positiveInt('concurrency', options.concurrency, availableParallelism());
  const heartbeatMs = positiveInt('heartbeatMs', options.heartbeatMs, 10_000);
  const progressIntervalMs = positiveInt('progressIntervalMs', options.progressIntervalMs, 500);
  const retryMaxMs = positiveInt('controlPlaneRetryMaxMs', options.controlPlaneRetryMaxMs, 10_000);
  const scanTimeoutMs = options.scanTimeoutMs ?? 30 * 60_000;
  if (!Number.isInteger(scanTimeoutMs) || scanTimeoutMs < 0) {
    throw new WorkerError('WRK_CONFIG_INVALID', `scanTimeoutMs must be 0 or more, got ${scanTimeoutMs}`);
  }
  if (!options.controlPlane.address) {
    throw new WorkerError('WRK_CONFIG_INVALID', 'the control plane address is missing');
  }
  if (!options.controlPlane.token) throw new WorkerError('WRK_CONFIG_INVALID', 'the worker token is missing');
  const chunkLimits = (name: string, given: Partial<ChunkLimits> = {}): ChunkLimits => ({
    maxItems: positiveInt(`${name}.maxItems`, given.maxItems, DEFAULT_CHUNK_LIMITS.maxItems),
    maxBytes: positiveInt(`${name}.maxBytes`, given.maxBytes, DEFAULT_CHUNK_LIMITS.maxBytes),
  });
  const inventory = chunkLimits('inventoryChunks', options.inventoryChunks);
  const findings = chunkLimits('findingsChunks', options.findingsChunks);
  const workerId = options.workerId ?? `${hostname()}-${process.pid}`;
  const logger = (options.logger ?? createWorkerLogger()).child({ workerId });

  const snapshots = await SnapshotFollower.start({
    dbPath: options.dbPath,
    source: options.snapshots,
    token: options.controlPlane.token,
    logger,
  });
  const grpc = createWorkerClient({ ...options.controlPlane, maxReconnectBackoffMs: retryMaxMs });
  // a claim naming another snapshot version than ours: look for it now rather than at the next poll
  const client: typeof grpc = {
    claimJob: async (request) => {
      const claim = await grpc.claimJob(request);
      snapshots.nudge(claim.dbVersion);
      return claim;
    },
    openReport: () => grpc.openReport(),
    claimRematch: (request) => grpc.claimRematch!(request),
    reportRematch: (request) => grpc.reportRematch!(request),
    close: () => grpc.close(),
  };
  const metrics = new MetricsRecorder();
  const link = new ControlPlaneLink({ maxRetryMs: retryMaxMs, onWaiting: (jobs) => metrics.waiting(jobs) });
  const ctx: Omit<ScanJobContext, 'db'> = {
    workerId,
    client,
    cache: options.cache ?? (options.cacheDir ? new FsLayerCache({ dir: options.cacheDir }) : undefined),
    registry: options.registry,
    tmpDir: options.tmpDir,
    limits: options.limits,
    inventoryChunks: inventory,
    findingsChunks: findings,
    progressIntervalMs,
    scanTimeoutMs,
    retryDelayMs: options.retryDelayMs ?? defaultRetryDelay,
    link,
    logger,
  };
  const consumer = new Consumer({
    source: options.source,
    concurrency,
    heartbeatMs,
    nextRetryMs: 1_000,
    // no point taking jobs that cannot be claimed
    ready: (signal) => link.whenAnswering(signal),
    handle: async (delivery, signal) => {
      // a rematch batch takes the snapshot its claim names (fetched first when newer than ours)
      if (delivery.job.rematch)
        return await runRematchJob(delivery, signal, {
          ...ctx,
          snapshot: async (version) => {
            snapshots.nudge(version);
            await snapshots.check();
          },
          acquire: () => snapshots.pool.acquire(),
        });
      // the job keeps this snapshot to its end, whatever is swapped in meanwhile
      const db = snapshots.pool.acquire();
      try {
        return await runScanJob(delivery, signal, { ...ctx, db });
      } finally {
        db.release();
      }
    },
    metrics,
    logger,
  });
  logger.info(
    {
      concurrency,
      dbVersion: snapshots.pool.version,
      controlPlane: options.controlPlane.address,
      cacheDir: options.cacheDir,
    },
    'worker start',
  );
  const done = consumer.done.then(async () => {
    client.close();
    await snapshots.close();
    logger.info({ metrics: metrics.snapshot() }, 'worker stop');
  });
  return {
    workerId,
    get dbVersion() {
      return snapshots.pool.version ?? '';
    },
    metrics: () => metrics.snapshot(),
    drain: async (timeoutMs) => {
      await consumer.drain(timeoutMs);
      await done;
    },
    stop: async () => {
      await consumer.drain(0);
      await done;
    },
    done,
  };
}
