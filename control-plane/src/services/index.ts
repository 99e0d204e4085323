/**
 * The composition of the service layer: `createServices` wires the scan and query services, the WorkerService
 * handlers and the dispatch loop over the stores, the analytics store and the work queue the composition root
 * built (fleet: pg + ClickHouse + JetStream; all-in-one: embedded Postgres + chdb + the in-process queue).
 * Every service sees the scan store through countFinishedScans (the finished-scans metric).
 */
import type { AnalyticsStore } from '../analytics/types.js';
import { createDispatchLoop, DEFAULT_IDLE_SCAN_MS, type DispatchLoop } from '../dispatch/loop.js';
import { createScanPublisher } from '../dispatch/publisher.js';
import { createWorkerService, type WorkerServiceHandlers } from '../grpc/worker-service.js';
import type { JobDispatcher } from '../queue/types.js';
import type { Rematch } from '../rematch/service.js';
import type { QueryService, ScanService } from './api.js';
import { createScanEventBus, type ScanEventBus } from './events.js';
import { SILENT_LOGGER, type ServiceLogger } from './logger.js';
import { createQueryService, type SnapshotInfo } from './queries.js';
import type { ImageResolver } from './resolver.js';
import { countFinishedScans } from './scan-metrics.js';
import { createScanService } from './scans.js';
import type { MetadataStores } from './types.js';

/** Default of {@link CreateServicesOptions.maxDeliveries}: keep it equal to the queue's maxDeliver. */
export const DEFAULT_MAX_DELIVERIES = 5;

export interface CreateServicesOptions {
  stores: MetadataStores;
  analytics: AnalyticsStore;
  dispatcher: JobDispatcher;
  /** the vulnerability database version new scans are scheduled against (the current snapshot's) */
  dbVersion: () => string;
  /** references → images, images → what workers pull (registryResolver(), or a local one all-in-one) */
  resolver: ImageResolver;
  /** the bus watchScan listens on (default: a new in-process bus) */
  events?: ScanEventBus;
  /** pino or compatible (default: silent) */
  logger?: ServiceLogger;
  /** the shared secret workers authenticate with (at least 16 characters) */
  workerToken: string;
  /** the queue's maximum deliveries per job (default {@link DEFAULT_MAX_DELIVERIES}) */
  maxDeliveries?: number;
  /** the current snapshot's metadata for dbInfo (the engine's SnapshotMeta fits); default none */
  snapshot?: () => SnapshotInfo | null | Promise<SnapshotInfo | null>;
  /**
   * dispatch loop timing and chunking (defaults: sweep every 5 s, grace 10 s, chunks of 1,000, a running scan
   * idle for 5 min re-queued; its open report stream records activity every fifth of that; a bulk rescan's publish
   * beside its insert given up after 20 s, services/scans.ts EARLY_DISPATCH_LIMIT_MS)
   */
  dispatch?: {
    intervalMs?: number;
    graceMs?: number;
    chunkSize?: number;
    idleScanMs?: number;
    earlyLimitMs?: number;
  };
  /** how often watchScan re-reads a scan (default 1,000 ms) */
  watchPollMs?: number;
  /** rematch batches for WorkerService (rematch/service.ts), set once built */
  rematch?: () => Pick<Rematch, 'claim' | 'report'> | undefined;
}

export interface Services {
  scans: ScanService;
  queries: QueryService;
  /** WorkerService handlers: `addService(server, WorkerService, services.workerService)` */
  workerService: WorkerServiceHandlers;
  /** start() after the queue is set up (re-publishes what a restart left unpublished); stop() on shutdown */
  dispatchLoop: DispatchLoop;
  events: ScanEventBus;
}

/** Wires the service layer. Throws CP_INVALID_ARGUMENT for a worker token under 16 characters. */
export function createServices(options: CreateServicesOptions): Services {
  const { analytics, dispatcher, dbVersion, resolver } = options;
  const stores: MetadataStores = { ...options.stores, scans: countFinishedScans(options.stores.scans) };
  const events = options.events ?? createScanEventBus();
  const logger = options.logger ?? SILENT_LOGGER;
  const maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
  const idleScanMs = options.dispatch?.idleScanMs ?? DEFAULT_IDLE_SCAN_MS;
  const publisher = createScanPublisher({
    dispatcher,
    outbox: stores.outbox,
    jobReference: (image) => resolver.jobReference(image),
    ...(options.dispatch?.chunkSize !== undefined ? { chunkSize: options.dispatch.chunkSize } : {}),
  });
  const workerService = createWorkerService({
    stores,
    analytics,
    events,
    logger,
    workerToken: options.workerToken,
    dbVersion,
    maxDeliveries,
    activityIntervalMs: Math.max(1, Math.floor(idleScanMs / 5)),
    ...(options.rematch ? { rematch: options.rematch } : {}),
  });
  return {
    scans: createScanService({
      stores,
      analytics,
      dispatcher,
      publisher,
      dbVersion,
      resolver,
      events,
      logger,
      ...(options.watchPollMs !== undefined ? { watchPollMs: options.watchPollMs } : {}),
      ...(options.dispatch?.chunkSize !== undefined ? { batchPageSize: options.dispatch.chunkSize } : {}),
      ...(options.dispatch?.earlyLimitMs !== undefined
        ? { earlyDispatchLimitMs: options.dispatch.earlyLimitMs }
        : {}),
    }),
    queries: createQueryService({
      images: stores.images,
      analytics,
      scans: stores.scans,
      snapshot: options.snapshot ?? (() => null),
      dbVersion,
    }),
    workerService,
    dispatchLoop: createDispatchLoop({
      outbox: stores.outbox,
      scans: stores.scans,
      dispatcher,
      publisher,
      events,
      logger,
      ...(options.dispatch?.intervalMs !== undefined ? { intervalMs: options.dispatch.intervalMs } : {}),
      ...(options.dispatch?.graceMs !== undefined ? { graceMs: options.dispatch.graceMs } : {}),
      ...(options.dispatch?.chunkSize !== undefined ? { pageSize: options.dispatch.chunkSize } : {}),
      idleMs: idleScanMs,
      maxAttempts: maxDeliveries,
    }),
    events,
  };
}

export type { ScanEventBus } from './events.js';
export { createScanEventBus } from './events.js';
export type { ServiceLogger } from './logger.js';
export type { SnapshotInfo } from './queries.js';
export { digestReference, registryResolver, type ImageResolver, type ResolvedImage } from './resolver.js';
