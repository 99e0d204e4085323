/**
 * `vigil server` (all-in-one), `vigil control-plane` and `vigil worker` (the fleet): the platform's programs.
 * Settings come from the environment (docs/deployment.md; control-plane/src/config.ts reads and checks them);
 * each flag here only sets its variable, so a flag and its variable can never disagree. SIGTERM / SIGINT drain:
 * running scans get VIGIL_DRAIN_TIMEOUT seconds to finish, the rest go back to the queue.
 *
 * Composition-root exception to the layering (ARCHITECTURE §1: cli → engine): these commands put the control
 * plane and the worker together, so they load @vigil/control-plane and @vigil/worker — lazily, with
 * `await import()` of a computed specifier, only when one of them runs. The scan commands never load either
 * (their start-up time is unchanged), and the bundler (cli/build.mjs) leaves both packages, with their native
 * addons and WASM files, outside the CLI bundle. The CLI cannot reference their TypeScript declarations (it is
 * built before them), so the few functions used are declared below by shape and checked by the e2e tests that
 * run these commands.
 */
import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { Script, constants } from 'node:vm';
import { Command } from 'commander';

type Env = Record<string, string | undefined>;

/** A running server (control-plane/src/server.ts ServerHandle). */
interface Server {
  url: string;
  shutdown(): Promise<void>;
}

/** What is used of the worker runtime's handle (worker/src/run-worker.ts WorkerHandle). */
interface WorkerHandle {
  done: Promise<void>;
  drain(timeoutMs: number): Promise<void>;
}

/** control-plane/src/config.ts */
interface ConfigModule {
  loadServerConfig(program: 'server' | 'control-plane', env: Env): unknown;
  loadWorkerConfig(env: Env): {
    natsServers: string[];
    queue: { stream: string; subjectPrefix: string };
    controlPlane: string;
    workerToken: string;
    /** null when the snapshot is downloaded from `controlPlaneUrl` */
    dbPath: string | null;
    controlPlaneUrl: string | null;
    snapshotDir: string;
    cacheDir: string;
    layerCache: { kind: 'nats'; bucket: string } | { kind: 'local' };
    concurrency: number;
    insecureRegistries: string[];
    drainTimeoutMs: number;
    logLevel: string;
  };
}

/** control-plane/src/server.ts */
interface ServerModule {
  startAllInOne(
    config: unknown,
    deps: { startWorker: (options: object) => Promise<WorkerHandle> },
  ): Promise<Server>;
  startControlPlane(config: unknown): Promise<Server>;
  shutdownOnSignal(server: Server): Promise<void>;
}

/** @vigil/worker */
interface WorkerModule {
  runWorker(options: object): Promise<WorkerHandle>;
  createWorkerLogger(options: { level: string }): unknown;
}

/** @vigil/worker's JetStream queue (worker/src/queue/jetstream/connect.ts and source.ts) */
interface QueueConnectModule {
  connectQueue(options: { servers: string[]; name: string }): Promise<{ drain(): Promise<void> }>;
}
interface QueueSourceModule {
  createJetStreamJobSource(options: object): { close(): Promise<void> };
}
/** @vigil/worker's shared layer cache (worker/src/cache/nats-layer-cache.ts) */
interface LayerCacheModule {
  NatsLayerCache: new (options: object) => { close(): void };
}

const CONFIG_MODULE = '@vigil/control-plane/dist/config.js';
const SERVER_MODULE = '@vigil/control-plane/dist/server.js';
const WORKER_MODULE = '@vigil/worker';
const QUEUE_CONNECT_MODULE = '@vigil/worker/dist/queue/jetstream/connect.js';
const QUEUE_SOURCE_MODULE = '@vigil/worker/dist/queue/jetstream/source.js';
const LAYER_CACHE_MODULE = '@vigil/worker/dist/cache/nats-layer-cache.js';
/**
 * `import()` of a computed specifier: the bundler keeps it as it is, Node resolves it when the command runs.
 * Run from V8's code cache (cli/src/launch.ts), Node 20 loses the bundle script's dynamic-import hook (a script
 * compiled with accepted `cachedData` rejects with ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING); then the import goes
 * through a small script compiled without a cache, resolving from the `vigil` executable's location.
 */
async function load<T>(specifier: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING') throw e;
    const importer = new Script('(specifier) => import(specifier)', {
      filename: realpathSync(process.argv[1] ?? process.cwd()),
      importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    }).runInThisContext() as (specifier: string) => Promise<T>;
    return importer(specifier);
  }
}

/** The environment with the given flags set as their variables. */
function envWith(
  flags: Record<string, string | number | boolean | undefined>,
  names: Record<string, string>,
): Env {
  const env: Env = { ...process.env };
  for (const [flag, name] of Object.entries(names)) {
    const value = flags[flag];
    if (value !== undefined) env[name] = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
  }
  return env;
}

/**
 * Runs a program; a coded error (bad configuration, a store or queue that cannot be reached) is printed as
 * `vigil: CODE: message` with exit code 2 (configuration) or 1, not as a stack trace. Engine errors (a missing
 * vulnerability database) go on to the CLI's usual error handling.
 */
async function run(program: () => Promise<void>): Promise<void> {
  try {
    await program();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const coded = typeof code === 'string' && /^(CP|WRK)_[A-Z_]+$/.test(code);
    if (!coded && (e as { name?: unknown }).name !== 'JobQueueError') throw e;
    process.stderr.write(`vigil: ${coded ? `${code}: ` : ''}${(e as Error).message}\n`);
    process.exitCode = code === 'CP_INVALID_ARGUMENT' || code === 'WRK_CONFIG_INVALID' ? 2 : 1;
  }
  // a library that keeps a handle open must not keep a drained program alive
  setTimeout(() => process.exit(), 2_000).unref();
}

async function serveUntilSignal(
  start: (server: ServerModule, config: unknown) => Promise<Server>,
  configOf: (m: ConfigModule) => unknown,
): Promise<void> {
  const config = configOf(await load<ConfigModule>(CONFIG_MODULE));
  const serverModule = await load<ServerModule>(SERVER_MODULE);
  const server = await start(serverModule, config);
  await serverModule.shutdownOnSignal(server);
}

const SERVER_FLAGS = {
  host: 'VIGIL_HOST',
  port: 'PORT',
  grpcPort: 'VIGIL_GRPC_PORT',
  db: 'VIGIL_DB',
} as const;

function serverCommand(): Command {
  return new Command('server')
    .description(
      'all-in-one server: embedded databases, in-process queue and workers, demo org on first start',
    )
    .option('--port <port>', 'HTTP port (PORT, default 8080)')
    .option('--grpc-port <port>', 'gRPC port (VIGIL_GRPC_PORT, default 9090)')
    .option('--host <address>', 'address to bind (VIGIL_HOST, default 0.0.0.0)')
    .option('--data-dir <dir>', 'data directory (VIGIL_DATA_DIR, default ./.vigil-data)')
    .option('--db <file>', 'vulnerability database (VIGIL_DB; default: built in the data dir on first start)')
    .option('--workers <n>', 'in-process workers (VIGIL_WORKERS, default 2)')
    .option('--concurrency <n>', 'scans at once per worker (VIGIL_WORKER_CONCURRENCY, default 2)')
    .option('--no-demo', 'no demo images on first start (VIGIL_DEMO=0)')
    .action((flags: Record<string, string | boolean | undefined>) =>
      run(async () => {
        const env = envWith(
          { ...flags, demo: flags.demo === false ? false : undefined },
          {
            ...SERVER_FLAGS,
            dataDir: 'VIGIL_DATA_DIR',
            workers: 'VIGIL_WORKERS',
            concurrency: 'VIGIL_WORKER_CONCURRENCY',
            demo: 'VIGIL_DEMO',
          },
        );
        const worker = await load<WorkerModule>(WORKER_MODULE);
        await serveUntilSignal(
          (m, config) => m.startAllInOne(config, { startWorker: (options) => worker.runWorker(options) }),
          (m) => m.loadServerConfig('server', env),
        );
      }),
    );
}

function controlPlaneCommand(): Command {
  return new Command('control-plane')
    .description(
      'fleet control plane on PostgreSQL (DATABASE_URL), ClickHouse (CLICKHOUSE_URL) and NATS (NATS_URL)',
    )
    .option('--port <port>', 'HTTP port (PORT, default 8080)')
    .option('--grpc-port <port>', 'gRPC port (VIGIL_GRPC_PORT, default 9090)')
    .option('--host <address>', 'address to bind (VIGIL_HOST, default 0.0.0.0)')
    .option('--db <file>', 'vulnerability database scans are scheduled against (VIGIL_DB, required)')
    .action((flags: Record<string, string | undefined>) =>
      run(() =>
        serveUntilSignal(
          (m, config) => m.startControlPlane(config),
          (m) => m.loadServerConfig('control-plane', envWith(flags, SERVER_FLAGS)),
        ),
      ),
    );
}

function workerCommand(): Command {
  return new Command('worker')
    .description('fleet worker: pulls scan jobs from NATS JetStream, reports to the control plane over gRPC')
    .option('--nats <urls>', 'NATS server(s), comma-separated (NATS_URL, required)')
    .option(
      '--control-plane <host:port>',
      'control plane gRPC address (VIGIL_CONTROL_PLANE, default 127.0.0.1:9090)',
    )
    .option('--db <file>', 'vulnerability database (VIGIL_DB, required)')
    .option('--concurrency <n>', 'scans at once (VIGIL_WORKER_CONCURRENCY, default 2)')
    .option('--data-dir <dir>', 'layer cache lives in <dir>/cache (VIGIL_DATA_DIR, default ./.vigil-data)')
    .action((flags: Record<string, string | undefined>) =>
      run(async () => {
        const env = envWith(flags, {
          nats: 'NATS_URL',
          controlPlane: 'VIGIL_CONTROL_PLANE',
          db: 'VIGIL_DB',
          concurrency: 'VIGIL_WORKER_CONCURRENCY',
          dataDir: 'VIGIL_DATA_DIR',
        });
        const config = (await load<ConfigModule>(CONFIG_MODULE)).loadWorkerConfig(env);
        const worker = await load<WorkerModule>(WORKER_MODULE);
        const { connectQueue } = await load<QueueConnectModule>(QUEUE_CONNECT_MODULE);
        const { createJetStreamJobSource } = await load<QueueSourceModule>(QUEUE_SOURCE_MODULE);
        const connection = await connectQueue({
          servers: config.natsServers,
          name: `vigil-worker-${hostname()}-${process.pid}`,
        });
        const source = createJetStreamJobSource({ connection, ...config.queue });
        const logger = worker.createWorkerLogger({ level: config.logLevel });
        // VIGIL_LAYER_CACHE=nats (default): layers analysed by any worker of the fleet, cacheDir in front
        const cache =
          config.layerCache.kind === 'nats'
            ? new (await load<LayerCacheModule>(LAYER_CACHE_MODULE)).NatsLayerCache({
                connection,
                bucket: config.layerCache.bucket,
                localDir: config.cacheDir,
                logger,
              })
            : undefined;
        try {
          const handle = await worker.runWorker({
            source,
            controlPlane: { address: config.controlPlane, token: config.workerToken },
            ...(config.dbPath === null ? {} : { dbPath: config.dbPath }),
            // VIGIL_CONTROL_PLANE_URL: follow the fleet's current snapshot (download, verify, swap between jobs)
            ...(config.controlPlaneUrl === null
              ? {}
              : { snapshots: { kind: 'http', url: config.controlPlaneUrl, dir: config.snapshotDir } }),
            cacheDir: config.cacheDir,
            cache,
            concurrency: config.concurrency,
            registry: { insecureRegistries: config.insecureRegistries },
            logger,
          });
          await Promise.race([handle.done, drainOnSignal(handle, config.drainTimeoutMs)]);
        } finally {
          cache?.close();
          await source.close();
          await connection.drain();
        }
      }),
    );
}

/** Drains the worker on the first SIGTERM / SIGINT (a second one exits at once); resolves once drained. */
function drainOnSignal(handle: WorkerHandle, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSignal = (): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.once('SIGTERM', () => process.exit(1));
      process.once('SIGINT', () => process.exit(1));
      handle.drain(timeoutMs).then(resolve, reject);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** The three platform commands. */
export function platformCommands(): Command[] {
  return [serverCommand(), controlPlaneCommand(), workerCommand()];
}
