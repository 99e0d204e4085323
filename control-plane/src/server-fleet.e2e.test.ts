/**
 * Fleet mode smoke test with real parts: `startControlPlane` on a scratch Postgres database, chdb in a temp dir
 * (no CLICKHOUSE_URL) and the shared NATS server (unique stream and subjects), plus one worker *process*
 * (`node cli/bin/vigil.js worker`, the built CLI) scanning an image pushed to a local docker-registry.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushOciLayout } from '../../test/harness/oci-image.js';
import { startRegistry, type RegistryHandle } from '../../test/harness/registry.js';
import { loadServerConfig } from './config.js';
import { writeDemoImages } from './demo/images.js';
import { ApiClient, waitFor } from './demo/testdata/api-client.js';
import { DEMO_FEEDS_DIR, ensureVulnDb } from './demo/vulndb.js';
import { SHARED_NATS_URL } from './queue/testdata/nats-server.js';
import { startControlPlane, type ServerHandle } from './server.js';
import { SCAN_PRIORITIES } from './services/types.js';
import { createScratchDatabase, type ScratchDatabase } from './store/postgres/testdata/scratch-database.js';

const VIGIL = fileURLToPath(new URL('../../cli/bin/vigil.js', import.meta.url));
const ADMIN = { email: 'ops@fleet.example.com', password: 'fleet-admin-password' };
const WORKER_TOKEN = randomBytes(24).toString('base64url');
const id = randomBytes(5).toString('hex');
const QUEUE = { VIGIL_NATS_STREAM: `TEST_FLEET_${id}`, VIGIL_NATS_SUBJECT_PREFIX: `test.fleet${id}` };

let dir: string;
let scratch: ScratchDatabase;
let registry: RegistryHandle;
let dbPath: string;
let server: ServerHandle;
let worker: ChildProcess;
let workerOutput = '';
let workerExit: Promise<number | null>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-fleet-'));
  [scratch, registry] = await Promise.all([createScratchDatabase(), startRegistry()]);
  dbPath = (await ensureVulnDb({ dbPath: null, feedsDir: DEMO_FEEDS_DIR, dataDir: dir })).path;
  const nodeApi = (await writeDemoImages(join(dir, 'images'))).find((i) => i.repository === 'demo/node-api')!;
  await pushOciLayout({
    layout: nodeApi.path,
    tag: nodeApi.tag,
    registryHost: registry.host,
    destination: 'team/node-api:1.4.2',
  });
  server = await startControlPlane(
    loadServerConfig('control-plane', {
      ...QUEUE,
      DATABASE_URL: scratch.url,
      NATS_URL: SHARED_NATS_URL,
      VIGIL_DB: dbPath,
      VIGIL_DATA_DIR: join(dir, 'control-plane'),
      VIGIL_WORKER_TOKEN: WORKER_TOKEN,
      VIGIL_HOST: '127.0.0.1',
      PORT: '0',
      VIGIL_GRPC_PORT: '0',
      VIGIL_ADMIN_EMAIL: ADMIN.email,
      VIGIL_ADMIN_PASSWORD: ADMIN.password,
      VIGIL_INSECURE_REGISTRIES: registry.host,
      VIGIL_DRAIN_TIMEOUT: '5',
      VIGIL_QUEUE_ACK_WAIT: '7s',
      VIGIL_LOG_LEVEL: 'silent',
    }),
  );
  worker = spawn(process.execPath, [VIGIL, 'worker', '--concurrency', '1'], {
    env: {
      ...process.env,
      ...QUEUE,
      NATS_URL: SHARED_NATS_URL,
      VIGIL_CONTROL_PLANE: server.grpcAddress,
      VIGIL_WORKER_TOKEN: WORKER_TOKEN,
      VIGIL_DB: dbPath,
      VIGIL_DATA_DIR: join(dir, 'worker'),
      VIGIL_INSECURE_REGISTRIES: registry.host,
      VIGIL_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  worker.stderr!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  workerExit = new Promise((resolve) => worker.once('exit', (code) => resolve(code)));
});

afterAll(async () => {
  if (worker && worker.exitCode === null) worker.kill('SIGKILL');
  await server?.shutdown();
  const nc = await connect({ servers: SHARED_NATS_URL });
  await (await jetstreamManager(nc)).streams.delete(QUEUE.VIGIL_NATS_STREAM).catch(() => false);
  await nc.close();
  await Promise.allSettled([scratch?.drop(), registry?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe('fleet: vigil control-plane + vigil worker', () => {
  it('scans a registry image through NATS and a worker process, and the worker drains on SIGTERM', async () => {
    const api = new ApiClient(server.url);
    const login = await api.login(ADMIN.email, ADMIN.password);
    await api.useNewToken(['ci', 'read']);
    const requested = await api.call('POST', '/api/v1/scans', {
      image: `${registry.host}/team/node-api:1.4.2`,
    });
    const { scan, image } = requested.body as { scan: { id: string }; image: { id: string } };
    let last: unknown;
    const done = await waitFor(
      'the scan to finish',
      async () => {
        if (worker.exitCode !== null) throw new Error(`the worker exited: ${workerOutput}`);
        const res = await api.call('GET', `/api/v1/scans/${scan.id}`);
        last = res.body;
        const body = res.body as { status: string; error: unknown; attempt: number };
        return ['completed', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
      },
      100_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; scan: ${JSON.stringify(last)}; worker output:\n${workerOutput}`);
    });
    const findings = (await api.call('GET', `/api/v1/images/${image.id}/findings?limit=1000`)).body as {
      items: Array<{ id: string }>;
    };
    const ready = await api.call('GET', '/readyz');
    const nc = await connect({ servers: SHARED_NATS_URL });
    const ackWaits: number[] = [];
    for await (const consumer of (await jetstreamManager(nc)).consumers.list(QUEUE.VIGIL_NATS_STREAM)) {
      ackWaits.push(consumer.config.ack_wait ?? 0);
    }
    await nc.close();
    worker.kill('SIGTERM');
    const exitCode = await workerExit;
    expect({
      login: login.status,
      requested: requested.status,
      scan: { status: done.status, error: done.error, attempt: done.attempt },
      findings: ['CVE-2021-44906', 'CVE-2022-25883', 'CVE-2022-37434'].filter((cve) =>
        findings.items.some((f) => f.id === cve),
      ),
      ready: ready.body,
      ackWaits,
      workerExit: exitCode,
    }).toEqual({
      login: 200,
      requested: 201,
      scan: { status: 'completed', error: null, attempt: 1 },
      findings: ['CVE-2021-44906', 'CVE-2022-25883', 'CVE-2022-37434'],
      ready: { status: 'ready', checks: { database: 'ok', analytics: 'ok', queue: 'ok', startup: 'ok' } },
      // VIGIL_QUEUE_ACK_WAIT, on the consumer of each priority
      ackWaits: SCAN_PRIORITIES.map(() => 7e9),
      workerExit: 0,
    });
  });
});
