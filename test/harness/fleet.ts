/**
 * A whole fleet of real processes for the scenario tests in test/e2e/fleet: a scratch Postgres database, a real
 * docker-registry (behind a throttling proxy, fleet-proxy.ts) holding small distinct images (fleet-images.ts), a
 * vulnerability database built once from the realdata feeds, NATS JetStream (the shared server with a stream and
 * subjects of its own, or a private server the test passes in), `vigil control-plane` with chdb in its data dir,
 * and `vigil worker` processes on demand (fleet-processes.ts). Also what the scenarios check with: reference
 * findings of the single-process CLI, the scans table, and the raw analytics rows (read from the control plane's
 * chdb directory while it is stopped: chdb holds a data directory in one process at a time).
 *
 * ```ts
 * const fleet = await startFleet({ images: 20 });
 * const worker = await fleet.startWorker({ concurrency: 2 });
 * const scan = await requestScan(fleet.api, fleet.images[0]!);
 * await fleet.close(); // in afterAll: kills every process, drops the database, removes the stream and files
 * ```
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { bootstrapAdmin } from '../../control-plane/src/auth/bootstrap.js';
import { ApiClient, waitFor } from '../../control-plane/src/demo/testdata/api-client.js';
import { SHARED_NATS_URL, uniqueQueueNames } from '../../control-plane/src/queue/testdata/nats-server.js';
import { pgStores, type SqlDatabase } from '../../control-plane/src/store/postgres/index.js';
import {
  createScratchDatabase,
  type ScratchDatabase,
} from '../../control-plane/src/store/postgres/testdata/scratch-database.js';
import { runVigil } from '../support/cli.js';
import { realdata } from '../support/realdata.js';
import { pushFleetImages, type FleetImage } from './fleet-images.js';
import {
  ControlPlaneProcess,
  killAll,
  startWorkerProcess,
  waitForCompletionLines,
  type WorkerProcess,
} from './fleet-processes.js';
import { startRegistryProxy, type RegistryProxy } from './fleet-proxy.js';
import { freePort } from './process.js';
import { startRegistry, type RegistryHandle } from './registry.js';

export { ApiClient, waitFor, waitForCompletionLines };
export type { FleetImage, RegistryProxy, WorkerProcess };

export interface FleetOptions {
  /** images pushed at start (default 8), spread over `repositories` (default 2) */
  images?: number;
  repositories?: number;
  /** NATS URL (default the shared server; the fleet then uses a stream and subjects of its own) */
  natsUrl?: string;
  /** variables added to (or overriding) the control plane's environment */
  controlPlaneEnv?: Record<string, string>;
}

export interface Fleet {
  dir: string;
  registry: RegistryHandle;
  /** image references name this proxy (the real registry is behind it) */
  proxy: RegistryProxy;
  images: FleetImage[];
  /** the vulnerability database of the control plane, the workers and the reference CLI */
  dbPath: string;
  scratch: ScratchDatabase;
  /** a pool on the scratch database, for checks beside the API */
  db: SqlDatabase;
  natsUrl: string;
  queue: { stream: string; subjectPrefix: string };
  controlPlane: ControlPlaneProcess;
  /** the first admin's org (`fleet`): an API client with an admin-scope token */
  api: ApiClient;
  workers: WorkerProcess[];
  /**
   * Starts a `vigil worker` (default concurrency 1) and waits until it runs; `env` adds or overrides variables
   * (e.g. VIGIL_CONTROL_PLANE_URL to follow the control plane's snapshot).
   */
  startWorker(options?: { concurrency?: number; env?: Record<string, string> }): Promise<WorkerProcess>;
  /** SIGTERM to every running worker; resolves once they exited (for afterEach). */
  stopWorkers(): Promise<void>;
  /** A second organisation with its own admin, created as the first one is; an API client with its admin token. */
  addOrg(slug: string): Promise<ApiClient>;
  /** Kills every process, removes the stream (shared NATS), the database, the registry and the files. */
  close(): Promise<void>;
}

const PASSWORD = 'fleet-admin-password';
const ADMIN_EMAIL = 'admin@fleet.example.com';

/** Starts everything but the workers. */
export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-fleet-'));
  const queue = uniqueQueueNames();
  const natsUrl = options.natsUrl ?? SHARED_NATS_URL;
  const dbPath = join(dir, 'vigil.db');
  const workerToken = randomBytes(24).toString('base64url');
  const cleanups: Array<() => Promise<unknown>> = [() => rm(dir, { recursive: true, force: true })];
  const close = async (): Promise<void> => {
    await killAll();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const [scratch, registry, built] = await Promise.all([
      createScratchDatabase().then((s) => (cleanups.push(() => s.drop()), s)),
      startRegistry().then((r) => (cleanups.push(() => r.stop()), r)),
      runVigil(['db', 'build', '--from', realdata('feeds'), '--out', dbPath, '-q']),
    ]);
    if (built.code !== 0) throw new Error(`vigil db build failed: ${built.stderr}`);
    const proxy = await startRegistryProxy(registry.url);
    cleanups.push(() => proxy.stop());
    const images = await pushFleetImages(registry.url, {
      count: options.images ?? 8,
      repositories: options.repositories ?? 2,
      referenceHost: proxy.host,
    });
    if (natsUrl === SHARED_NATS_URL) cleanups.push(() => deleteStream(natsUrl, queue.stream));
    const common = {
      NATS_URL: natsUrl,
      VIGIL_NATS_STREAM: queue.stream,
      VIGIL_NATS_SUBJECT_PREFIX: queue.subjectPrefix,
      VIGIL_DB: dbPath,
      VIGIL_WORKER_TOKEN: workerToken,
      VIGIL_INSECURE_REGISTRIES: proxy.host,
      VIGIL_DRAIN_TIMEOUT: '5',
    };
    const controlPlane = new ControlPlaneProcess(
      {
        ...common,
        DATABASE_URL: scratch.url,
        VIGIL_DATA_DIR: join(dir, 'control-plane'),
        VIGIL_HOST: '127.0.0.1',
        VIGIL_ADMIN_EMAIL: ADMIN_EMAIL,
        VIGIL_ADMIN_PASSWORD: PASSWORD,
        VIGIL_ADMIN_ORG: 'fleet',
        VIGIL_LOG_LEVEL: 'warn',
        ...options.controlPlaneEnv,
      },
      { http: await freePort(), grpc: await freePort() },
    );
    await controlPlane.start();
    const db = scratch.open();
    // /readyz answers before the first admin is created (startControlPlane bootstraps it after listening)
    await waitFor('the first admin', async () => {
      const { rows } = await db.query('SELECT 1 FROM users WHERE email = $1', [ADMIN_EMAIL]);
      return rows.length > 0 ? true : undefined;
    });
    const api = await adminClient(controlPlane.url, ADMIN_EMAIL);
    const workers: WorkerProcess[] = [];
    return {
      dir,
      registry,
      proxy,
      images,
      dbPath,
      scratch,
      db,
      natsUrl,
      queue,
      controlPlane,
      api,
      workers,
      async startWorker(workerOptions = {}) {
        const worker = await startWorkerProcess({
          ...common,
          VIGIL_CONTROL_PLANE: controlPlane.grpcAddress,
          VIGIL_DATA_DIR: join(dir, `worker-${workers.length + 1}`),
          VIGIL_WORKER_CONCURRENCY: String(workerOptions.concurrency ?? 1),
          VIGIL_LOG_LEVEL: 'info',
          ...workerOptions.env,
        });
        workers.push(worker);
        return worker;
      },
      async stopWorkers() {
        await Promise.all(workers.filter((w) => w.running).map((w) => w.stop()));
      },
      async addOrg(slug) {
        const email = `admin@${slug}.example.com`;
        await bootstrapAdmin(
          { orgs: pgStores(db).orgs, audit: pgStores(db).audit, db },
          { email, password: PASSWORD, orgSlug: slug },
        );
        return adminClient(controlPlane.url, email);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function adminClient(url: string, email: string): Promise<ApiClient> {
  const api = new ApiClient(url);
  const login = await api.login(email, PASSWORD);
  if (login.status !== 200) throw new Error(`login of ${email} failed: ${JSON.stringify(login.body)}`);
  await api.useNewToken(['admin']);
  return api;
}

async function deleteStream(natsUrl: string, stream: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}
