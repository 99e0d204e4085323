/**
 * The control plane's composition root, in its two modes with one code path above the driver seam:
 *
 * - `startControlPlane(config)` (fleet, `vigil control-plane`): Postgres (`pg`), ClickHouse over HTTP (or chdb in
 *   the data dir when CLICKHOUSE_URL is unset), NATS JetStream; workers are other processes (`vigil worker`).
 * - `startAllInOne(config, { startWorker })` (`vigil server`, `npm start`): PGlite and chdb in the data dir, the
 *   in-process queue, and N in-process workers that talk gRPC over loopback to this control plane exactly like
 *   fleet workers; on first start the demo organisation, its admin and scans of the demo images.
 *
 * Both serve the same services: WorkerService and the public gRPC services on VIGIL_GRPC_PORT, the REST gateway
 * (with /healthz, /readyz, /metrics and a landing page at `/`) on PORT, and the dispatch loop. Start-up order:
 * migrations, servers listening, the first admin (and the all-in-one's demo org and workers), and only then does
 * /readyz answer 200 (503 with its `startup` check failed before). `shutdown()` is
 * graceful: /readyz answers 503, HTTP stops accepting and finishes its requests, in-process workers drain, gRPC
 * finishes its calls, then queue and stores close. The worker runtime is injected (`startWorker`): the control
 * plane never imports @vigil/worker; the CLI, the composition root of the whole product, passes `runWorker`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { WorkerService } from '@vigil/proto/v1/worker_pb';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createAnalyticsStore } from './analytics/index.js';
import { batchPublishes } from './analytics/publish-batching.js';
import type { AnalyticsStore } from './analytics/types.js';
import { createAuth } from './auth/authenticate.js';
import { cacheVerifiedTokens } from './auth/token-cache.js';
import { bootstrapAdmin } from './auth/bootstrap.js';
import { pgSessionStore } from './auth/sessions.js';
import type { ServerConfig } from './config.js';
import { writeDemoImages } from './demo/images.js';
import { localImageResolver } from './demo/resolver.js';
import { seedDemo, type SeedResult } from './demo/seed.js';
import { ensureVulnDb } from './demo/vulndb.js';
import { ControlPlaneError } from './errors.js';
import { addService } from './grpc/adapter.js';
import { buildApi, createLogger, grpcPublicServices } from './http/index.js';
import { bindGrpc, closeGrpc, closeHttp, localHost } from './listen.js';
import { analyticsInsertedRows, analyticsInserts, trackQueueDepth } from './metrics.js';
import { createInProcessQueue, type InProcessJobSource } from './queue/in-process.js';
import { connectQueue } from './queue/jetstream/connect.js';
import { createJetStreamDispatcher } from './queue/jetstream/dispatcher.js';
import type { ClickHouseAnalyticsStore } from './analytics/store.js';
import { createRematch } from './rematch/service.js';
import type { JobDispatcher } from './queue/types.js';
import { createServices, registryResolver, type ImageResolver, type Services } from './services/index.js';
import type { MetadataStores } from './services/types.js';
import { openPgliteDatabase } from './store/pglite/index.js';
import {
  createPgDatabase,
  migrate,
  pgScanOutboxStore,
  pgStores,
  type SqlDatabase,
} from './store/postgres/index.js';
import { advisoryLock, processLock, startDbSync, type DbSync, type SyncLock } from './vulndb-sync/index.js';
import { banner, landingPage } from './welcome.js';

/** What one in-process worker is started with: a subset of @vigil/worker's WorkerOptions. */
export interface InProcessWorkerOptions {
  source: InProcessJobSource;
  controlPlane: { address: string; token: string };
  dbPath: string;
  /** the control plane's current snapshot, opened in place (no download); followed as it changes */
  snapshots: { kind: 'shared'; current: () => { version: string; path: string } };
  cacheDir: string;
  concurrency: number;
  workerId: string;
  registry: { insecureRegistries: string[] };
  logger: Logger;
}

/** What the control plane needs of a running worker: a subset of @vigil/worker's WorkerHandle. */
export interface InProcessWorker {
  drain(timeoutMs: number): Promise<void>;
}

/** Starts one worker; @vigil/worker's `runWorker` fits. */
export type StartWorker = (options: InProcessWorkerOptions) => Promise<InProcessWorker>;

export interface ServerOptions {
  /** default: pino on stdout at the configured level, secrets redacted */
  logger?: Logger;
  /** where the all-in-one prints its start-up banner (default stdout) */
  print?: (text: string) => void;
}

export interface ServerHandle {
  readonly config: ServerConfig;
  /** the REST gateway, as reachable from this host (`http://localhost:8080`) */
  readonly url: string;
  /** the gRPC server, as reachable from this host (`127.0.0.1:9090`) */
  readonly grpcAddress: string;
  /** the vulnerability database the server started with (VIGIL_DB, or the all-in-one's built one) */
  readonly dbPath: string;
  /** the database sync: the current snapshot, updates, the snapshot directory */
  readonly dbSync: DbSync;
  /** all-in-one: what the first-start seeding did (null in the fleet, or with VIGIL_DEMO=0 and no admin) */
  readonly seed: SeedResult | null;
  /** Graceful shutdown (idempotent): see the module comment. */
  shutdown(): Promise<void>;
}

/** The parts a mode builds below the service layer. */
interface Parts {
  db: SqlDatabase;
  analytics: AnalyticsStore;
  dispatcher: JobDispatcher;
  resolver: ImageResolver;
  /** the seed of the snapshot directory */
  dbPath: string;
  /** the sync lock: a Postgres advisory lock in the fleet, in-process in the all-in-one */
  lock: SyncLock;
  workerToken: string;
  /** closed last, after the dispatcher (e.g. the NATS connection) */
  close?: () => Promise<void>;
}

/** A running core: services, gRPC and HTTP servers. */
interface Core {
  stores: MetadataStores;
  services: Services;
  sync: DbSync;
  url: string;
  grpcAddress: string;
  /** start-up finished (the first admin exists): /readyz may answer 200 */
  ready(): void;
  /** `beforeGrpcClose` runs after HTTP closed and before gRPC does (in-process workers drain there) */
  shutdown(beforeGrpcClose?: () => Promise<void>): Promise<void>;
}

const NIL_ORG = '00000000-0000-0000-0000-000000000000';
const HOUR = 3_600_000;
const MiB = 1024 * 1024;

/** The fleet control plane (DATABASE_URL, CLICKHOUSE_URL, NATS_URL). */
export async function startControlPlane(
  config: ServerConfig,
  options: ServerOptions = {},
): Promise<ServerHandle> {
  if (config.mode !== 'fleet' || !config.databaseUrl || !config.dbPath || !config.workerToken) {
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'startControlPlane needs a fleet configuration');
  }
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const opened = new Resources();
  try {
    const db = opened.add(
      createPgDatabase({
        connectionString: config.databaseUrl,
        onIdleError: (err) => logger.warn({ err }, 'postgres idle connection lost'),
      }),
    );
    await migrate(db);
    const analytics = opened.add(await openAnalytics(config));
    await analytics.migrate();
    const nc = await connectQueue({ servers: config.natsServers, name: 'vigil-control-plane' });
    opened.add({ close: () => nc.close() });
    const dispatcher = opened.add(
      createJetStreamDispatcher({
        connection: nc,
        ...config.queue,
        logger: logger.child({ component: 'queue' }),
      }),
    );
    await dispatcher.setup();
    const core = await serve(config, logger, {
      db,
      analytics,
      dispatcher,
      resolver: registryResolver({ insecureRegistries: config.insecureRegistries }),
      dbPath: config.dbPath,
      lock: advisoryLock(db),
      workerToken: config.workerToken,
      close: () => nc.drain(),
    });
    opened.handOver(core);
    if (config.admin?.password) {
      const { created, org } = await bootstrapAdmin(
        { orgs: core.stores.orgs, audit: core.stores.audit, db },
        { email: config.admin.email, password: config.admin.password, orgSlug: config.admin.org },
      );
      if (created) logger.info({ org: org.slug, email: config.admin.email }, 'first admin created');
    }
    core.ready();
    return handle(config, core, null, config.dbPath, () => core.shutdown());
  } catch (err) {
    await opened.closeAll();
    throw err;
  }
}

/** The all-in-one server: embedded stores, in-process queue and workers, the demo on first start. */
export async function startAllInOne(
  config: ServerConfig,
  deps: { startWorker: StartWorker },
  options: ServerOptions = {},
): Promise<ServerHandle> {
  if (config.mode !== 'all-in-one') {
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'startAllInOne needs an all-in-one configuration');
  }
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const print = options.print ?? ((text: string) => void process.stdout.write(text));
  await mkdir(config.dataDir, { recursive: true });
  const vulndb = await ensureVulnDb(config);
  if (vulndb.origin === 'built') {
    logger.info(
      { path: vulndb.path, from: vulndb.from, version: vulndb.version },
      'vulnerability database built',
    );
  }
  const opened = new Resources();
  try {
    const db = opened.add(await openPgliteDatabase({ dataDir: join(config.dataDir, 'pglite') }));
    await migrate(db);
    // the in-process queue starts empty: scans left queued by the last run are published again by the dispatch loop
    await pgScanOutboxStore(db).forgetPublished();
    const analytics = opened.add(await openAnalytics(config));
    await analytics.migrate();
    const queue = opened.add(createInProcessQueue({ logger: logger.child({ component: 'queue' }) }));
    const images = config.demo ? await writeDemoImages(join(config.dataDir, 'demo', 'images')) : [];
    const registry = registryResolver({ insecureRegistries: config.insecureRegistries });
    const workerToken = config.workerToken ?? randomBytes(32).toString('base64url');
    const core = await serve(config, logger, {
      db,
      analytics,
      dispatcher: queue,
      resolver: localImageResolver(images, registry),
      dbPath: vulndb.path,
      lock: processLock(),
      workerToken,
    });
    const sources: InProcessJobSource[] = [];
    const workers: InProcessWorker[] = [];
    const stopWorkers = async (): Promise<void> => {
      await Promise.allSettled(workers.map((w) => w.drain(config.drainTimeoutMs)));
      await Promise.allSettled(sources.map((s) => s.close()));
    };
    opened.handOver({ shutdown: () => core.shutdown(stopWorkers) });
    for (let i = 1; i <= config.workers; i++) {
      const source = queue.source();
      sources.push(source);
      workers.push(
        await deps.startWorker({
          source,
          controlPlane: { address: core.grpcAddress, token: workerToken },
          dbPath: vulndb.path,
          snapshots: {
            kind: 'shared',
            current: () => ({
              version: core.sync.current().manifest.version,
              path: core.sync.current().path,
            }),
          },
          cacheDir: join(config.dataDir, 'cache'),
          concurrency: config.workerConcurrency,
          workerId: `in-process-${i}`,
          registry: { insecureRegistries: config.insecureRegistries },
          logger: logger.child({ component: 'worker' }),
        }),
      );
    }
    const seed = config.admin
      ? await seedDemo({ stores: core.stores, db, scans: core.services.scans }, config.admin, images)
      : null;
    core.ready();
    if (seed) print(banner(core.url, seed, images.length));
    return handle(config, core, seed, vulndb.path, () => core.shutdown(stopWorkers));
  } catch (err) {
    await opened.closeAll();
    throw err;
  }
}

/**
 * Runs a started server until SIGTERM or SIGINT, then shuts it down gracefully; a second signal exits at once.
 * Resolves once the shutdown finished.
 */
export function shutdownOnSignal(server: Pick<ServerHandle, 'shutdown'>, logger?: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.once('SIGTERM', () => process.exit(1));
      process.once('SIGINT', () => process.exit(1));
      logger?.info({ signal }, 'shutting down: draining');
      server.shutdown().then(resolve, reject);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

function handle(
  config: ServerConfig,
  core: Core,
  seed: SeedResult | null,
  dbPath: string,
  shutdown: () => Promise<void>,
): ServerHandle {
  let closing: Promise<void> | undefined;
  return {
    config,
    url: core.url,
    grpcAddress: core.grpcAddress,
    dbPath,
    dbSync: core.sync,
    seed,
    shutdown: () => (closing ??= shutdown()),
  };
}

async function openAnalytics(config: ServerConfig): Promise<AnalyticsStore> {
  const onInsert = (table: string, rows: number) => {
    analyticsInserts.inc({ table });
    analyticsInsertedRows.inc({ table }, rows);
  };
  if (config.clickhouseUrl) return createAnalyticsStore({ url: config.clickhouseUrl, onInsert });
  const path = join(config.dataDir, 'clickhouse');
  await mkdir(path, { recursive: true });
  return createAnalyticsStore({ path, onInsert });
}

/** The services, gRPC and HTTP servers over a mode's parts. */
async function serve(config: ServerConfig, logger: Logger, parts: Parts): Promise<Core> {
  const { db, dispatcher } = parts;
  // completions that arrive together are published in one batch (analytics/publish-batching.ts)
  const analytics = batchPublishes(parts.analytics);
  const sync = await startDbSync({
    ...config.dbSync,
    lock: parts.lock,
    seed: parts.dbPath,
    logger: logger.child({ component: 'vulndb' }),
  });
  const pgs = pgStores(db);
  // verified API tokens are trusted for a few seconds (auth/token-cache.ts): one statement less per request
  const stores = { ...pgs, orgs: cacheVerifiedTokens(pgs.orgs) };
  const sessions = pgSessionStore(db);
  const auth = createAuth({ orgs: stores.orgs, audit: stores.audit, sessions });
  // rematch of stored inventories on a new snapshot (needs the ClickHouse store's driver)
  const rematch =
    'driver' in analytics
      ? createRematch({
          db,
          analytics: analytics as ClickHouseAnalyticsStore,
          dispatcher,
          dbVersion: () => sync.current().manifest.version,
          logger: logger.child({ component: 'rematch' }),
          batchSize: config.rematchBatchSize,
        })
      : undefined;
  const services = createServices({
    rematch: () => rematch,
    stores,
    analytics,
    dispatcher,
    dbVersion: () => sync.current().manifest.version,
    snapshot: () => sync.current().meta,
    resolver: parts.resolver,
    logger: logger.child({ component: 'services' }),
    workerToken: parts.workerToken,
  });

  const grpcLogger = logger.child({ component: 'grpc' });
  const onInternalError = (err: unknown, method: { name: string }): void =>
    grpcLogger.error({ err, method: method.name }, 'grpc internal error');
  const grpcServer = new grpc.Server({
    'grpc.max_receive_message_length': 16 * MiB,
    'grpc.max_send_message_length': 16 * MiB,
  });
  addService(grpcServer, WorkerService, services.workerService, { onInternalError });
  for (const s of grpcPublicServices(
    { auth, scans: services.scans, queries: services.queries },
    { onInternalError },
  )) {
    grpcServer.addService(s.definition, s.implementation);
  }
  const grpcPort = await bindGrpc(grpcServer, config.host, config.grpcPort).catch(async (err: unknown) => {
    await sync.close();
    throw err;
  });

  let draining = false;
  let started = false;
  let app: FastifyInstance | undefined;
  try {
    app = await buildApi({
      stores,
      sessions,
      services,
      auth,
      logger,
      isDraining: () => draining,
      db: { sync, workerToken: parts.workerToken },
      ...(rematch ? { rematch } : {}),
      readiness: {
        database: () => db.query('SELECT 1'),
        analytics: () => analytics.summary(NIL_ORG),
        queue: () => dispatcher.pending(),
        startup: async () => {
          if (!started) throw new ControlPlaneError('CP_UNAVAILABLE', 'starting');
        },
      },
    });
    landingPage(app);
    await app.listen({ host: config.host, port: config.port }).catch((err: unknown) => {
      throw new ControlPlaneError(
        'CP_UNAVAILABLE',
        `cannot listen on ${config.host}:${config.port}: ${String(err)}`,
        {
          cause: err,
        },
      );
    });
    await services.dispatchLoop.start();
    rematch?.watch();
  } catch (err) {
    grpcServer.forceShutdown();
    await app?.close();
    await sync.close();
    throw err;
  }
  const address = app.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.port;

  trackQueueDepth(() => dispatcher.pending());
  const prune = setInterval(() => {
    analytics
      .pruneUnpublished(new Date(Date.now() - 24 * HOUR))
      .catch((err: unknown) => logger.warn({ err }, 'analytics prune failed'));
  }, HOUR);
  prune.unref();
  logger.info({ http: httpPort, grpc: grpcPort, mode: config.mode }, 'control plane listening');

  return {
    stores,
    services,
    sync,
    url: `http://${localHost(config.host)}:${httpPort}`,
    grpcAddress: `${localHost(config.host, '127.0.0.1')}:${grpcPort}`,
    ready: () => {
      started = true;
    },
    async shutdown(beforeGrpcClose) {
      draining = true;
      clearInterval(prune);
      logger.info('control plane draining');
      await closeHttp(app, config.drainTimeoutMs);
      await sync.close();
      await rematch?.close();
      await services.dispatchLoop.stop();
      await beforeGrpcClose?.();
      await closeGrpc(grpcServer, config.drainTimeoutMs);
      await Promise.allSettled([dispatcher.close()]);
      await parts.close?.().catch((err: unknown) => logger.warn({ err }, 'queue connection close failed'));
      await Promise.allSettled([analytics.close(), db.close()]);
      logger.info('control plane stopped');
    },
  };
}

/**
 * What start-up opened, released when start-up fails: in reverse order, or, once the core runs, by its
 * shutdown (which closes the stores itself).
 */
class Resources {
  private readonly items: Array<{ close(): Promise<unknown> }> = [];
  private core: { shutdown(): Promise<void> } | null = null;
  add<T extends { close(): Promise<unknown> }>(item: T): T {
    this.items.push(item);
    return item;
  }
  handOver(core: { shutdown(): Promise<void> }): void {
    this.core = core;
  }
  async closeAll(): Promise<void> {
    if (this.core) return this.core.shutdown();
    for (const item of this.items.reverse()) await item.close().catch(() => undefined);
  }
}
