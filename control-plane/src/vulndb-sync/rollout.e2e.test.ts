/**
 * Snapshot rollout end to end, with real parts: the fleet control plane (`startControlPlane`: scratch Postgres,
 * chdb in a temp dir, the shared NATS server with a stream of its own) whose sync updates from the loopback feed
 * replay server (one more Alpine advisory than its seed), a docker-registry behind the throttling proxy holding
 * the demo node-api image, and two workers (`runWorker` on their own JetStream connections) that start without
 * any database and download it from `GET /api/v1/db/snapshot` with the worker token.
 *
 * The scenario runs in order: both workers fetch v1 and scan on it; a scan is held mid-download while the
 * control plane publishes v2; both workers swap to v2, the held scan finishes on v1 and says so (its Report's
 * db_version, logged by the control plane) without the new advisory; a new scan runs on v2 and finds it; the
 * old file goes once no scan uses it. Then a failing update keeps v2 and `GET /db` shows the error, and the
 * snapshot endpoint serves a CLI's read token with ETag and 304.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alpineIndex } from '../../../test/e2e/db-update/feed-payloads.js';
import { FeedReplayServer, NVD_PATH } from '../../../test/e2e/db-update/replay-server.js';
import { ControlPlaneProcess, killAll } from '../../../test/harness/fleet-processes.js';
import { startRegistryProxy, type RegistryProxy } from '../../../test/harness/fleet-proxy.js';
import { pushOciLayout } from '../../../test/harness/oci-image.js';
import { freePort } from '../../../test/harness/process.js';
import { startRegistry, type RegistryHandle } from '../../../test/harness/registry.js';
import { connectQueue } from '../../../worker/src/queue/jetstream/connect.js';
import { createJetStreamJobSource } from '../../../worker/src/queue/jetstream/source.js';
import type { JobSource } from '../../../worker/src/queue/types.js';
import { runWorker, type WorkerHandle } from '../../../worker/src/run-worker.js';
import { loadServerConfig } from '../config.js';
import { writeDemoImages } from '../demo/images.js';
import { ApiClient, waitFor } from '../demo/testdata/api-client.js';
import { SHARED_NATS_URL, uniqueQueueNames } from '../queue/testdata/nats-server.js';
import { startControlPlane, type ServerHandle } from '../server.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres/testdata/scratch-database.js';
import { alpineSecdb, buildDemoSnapshot, EXTRA_CVE } from './testdata/snapshots.js';

const ADMIN = { email: 'ops@rollout.example.com', password: 'rollout-admin-password' };
const WORKER_TOKEN = randomBytes(24).toString('base64url');
const QUEUE = uniqueQueueNames();
const SECDB = '/alpine/v3.11/main.json';

interface LogLine {
  msg: string;
  scanId?: string;
  dbVersion?: string;
  workerId?: string;
  [k: string]: unknown;
}

/** A pino logger at debug keeping its lines for the assertions. */
function capturingLogger(lines: LogLine[]): Logger {
  return pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
}

let dir: string;
let scratch: ScratchDatabase;
let registry: RegistryHandle;
let proxy: RegistryProxy;
let feeds: FeedReplayServer;
let server: ServerHandle;
let api: ApiClient;
let v1: string;
let image: string;
let controlPlaneEnv: Record<string, string>;
const cpLog: LogLine[] = [];
const workers: Array<{
  handle: WorkerHandle;
  source: JobSource;
  nc: NatsConnection;
  dir: string;
  log: LogLine[];
}> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-rollout-'));
  const seed = join(dir, 'seed.db');
  [scratch, registry, v1] = await Promise.all([
    createScratchDatabase(),
    startRegistry(),
    buildDemoSnapshot(seed),
  ]);
  proxy = await startRegistryProxy(registry.url);
  const nodeApi = (await writeDemoImages(join(dir, 'images'))).find((i) => i.repository === 'demo/node-api')!;
  await pushOciLayout({
    layout: nodeApi.path,
    tag: nodeApi.tag,
    registryHost: registry.host,
    destination: 'team/node-api:1.4.2',
  });
  image = `${proxy.host}/team/node-api:1.4.2`;
  feeds = new FeedReplayServer(
    new Map([
      ['/alpine/', alpineIndex(['v3.11'])],
      [SECDB, await alpineSecdb(true)],
    ]),
    [],
  );
  await feeds.start();
  controlPlaneEnv = {
    VIGIL_NATS_STREAM: QUEUE.stream,
    VIGIL_NATS_SUBJECT_PREFIX: QUEUE.subjectPrefix,
    DATABASE_URL: scratch.url,
    NATS_URL: SHARED_NATS_URL,
    VIGIL_DB: seed,
    VIGIL_DB_DIR: join(dir, 'snapshots'),
    VIGIL_WORKER_TOKEN: WORKER_TOKEN,
    VIGIL_HOST: '127.0.0.1',
    VIGIL_ADMIN_EMAIL: ADMIN.email,
    VIGIL_ADMIN_PASSWORD: ADMIN.password,
    VIGIL_INSECURE_REGISTRIES: proxy.host,
    VIGIL_DRAIN_TIMEOUT: '5',
    VIGIL_DB_UPDATE_INTERVAL: '0',
    VIGIL_DB_SOURCES: 'alpine',
    VIGIL_DB_MIRRORS: `alpine=${feeds.url}/alpine/,nvd=${feeds.url}${NVD_PATH}`,
  };
  server = await startControlPlane(
    loadServerConfig('control-plane', {
      ...controlPlaneEnv,
      VIGIL_DATA_DIR: join(dir, 'control-plane'),
      PORT: '0',
      VIGIL_GRPC_PORT: '0',
    }),
    { logger: capturingLogger(cpLog) },
  );
  api = new ApiClient(server.url);
  await api.login(ADMIN.email, ADMIN.password);
  await api.useNewToken(['admin']);
  for (const id of ['w1', 'w2']) {
    const nc = await connectQueue({ servers: SHARED_NATS_URL, name: `rollout-${id}` });
    const source = createJetStreamJobSource({ connection: nc, ...QUEUE, pollIntervalMs: 200 });
    const log: LogLine[] = [];
    const workerDir = join(dir, id);
    const handle = await runWorker({
      source,
      controlPlane: { address: server.grpcAddress, token: WORKER_TOKEN },
      snapshots: {
        kind: 'http',
        url: server.url,
        dir: join(workerDir, 'db'),
        pollMs: 300,
        backoffMs: () => 100,
      },
      concurrency: 1,
      workerId: id,
      registry: { insecureRegistries: [proxy.host] },
      heartbeatMs: 1_000,
      logger: capturingLogger(log),
    });
    workers.push({ handle, source, nc, dir: workerDir, log });
  }
});

afterAll(async () => {
  proxy?.release();
  feeds?.releaseHung();
  await killAll();
  for (const w of workers) {
    await w.handle.stop().catch(() => undefined);
    await w.source.close().catch(() => undefined);
    await w.nc.drain().catch(() => undefined);
  }
  await server?.shutdown();
  const nc = await connect({ servers: SHARED_NATS_URL });
  await (await jetstreamManager(nc)).streams.delete(QUEUE.stream).catch(() => false);
  await nc.close();
  await Promise.allSettled([scratch?.drop(), registry?.stop(), proxy?.stop(), feeds?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

interface Scan {
  id: string;
  status: string;
  dbVersion: string;
  error: unknown;
}

async function requestScan(): Promise<{ scanId: string; imageId: string }> {
  const res = await api.call('POST', '/api/v1/scans', { image, force: true });
  const body = res.body as { scan: { id: string }; image: { id: string } };
  if (res.status >= 300) throw new Error(`scan request: ${res.status} ${JSON.stringify(res.body)}`);
  return { scanId: body.scan.id, imageId: body.image.id };
}

const finished = (scanId: string): Promise<Scan> =>
  waitFor(`scan ${scanId} to finish`, async () => {
    const scan = (await api.call('GET', `/api/v1/scans/${scanId}`)).body as Scan;
    return ['completed', 'failed', 'cancelled'].includes(scan.status) ? scan : undefined;
  });

const hasExtraAdvisory = async (imageId: string): Promise<boolean> => {
  const findings = (await api.call('GET', `/api/v1/images/${imageId}/findings?limit=1000`)).body as {
    items: Array<{ id: string }>;
  };
  return findings.items.some((f) => f.id === EXTRA_CVE);
};

/** The db_version the worker's ReportStarted named for this scan, as the control plane logged it. */
const startedOn = (scanId: string) =>
  cpLog.filter((l) => l.msg === 'scan report started' && l.scanId === scanId).map((l) => l.dbVersion);

interface DbInfo {
  version: string;
  sources: Array<{ name: string; checkedAt: string | null; lastError: string | null }>;
  snapshot: { sha256: string; size: number; origin: string };
  sync: {
    running: boolean;
    lastAttempt: { trigger: string; outcome: string; version: string; error: { code: string } | null } | null;
  };
}

const dbInfo = async () => (await api.call('GET', '/api/v1/db')).body as DbInfo;

describe('snapshot rollout to a fleet', () => {
  let v2 = '';

  it('swaps both workers to a published snapshot while a scan in flight finishes on its own version', async () => {
    const downloaded = workers.map((w) => w.handle.dbVersion);

    const first = await requestScan();
    const onV1 = await finished(first.scanId);
    const firstHasExtra = await hasExtraAdvisory(first.imageId);

    proxy.hold();
    const held = await requestScan();
    const busy = await waitFor('the held scan to be mid-download', async () =>
      proxy.waiting > 0 ? workers.find((w) => w.log.some((l) => l.scanId === held.scanId)) : undefined,
    );

    const update = await api.call('POST', '/api/v1/db/update');
    const published = await waitFor('the update to end', async () => {
      const info = await dbInfo();
      return info.sync.lastAttempt?.outcome !== 'running' && !info.sync.running ? info : undefined;
    });
    v2 = published.version;
    await waitFor('both workers to swap', async () =>
      workers.every((w) => w.handle.dbVersion === v2) ? true : undefined,
    );
    const v1FileWhileLeased = existsSync(join(busy.dir, 'db', `${v1}.db`));
    proxy.release();
    const heldScan = await finished(held.scanId);
    const heldHasExtra = await hasExtraAdvisory(held.imageId);

    const last = await requestScan();
    const onV2 = await finished(last.scanId);
    const lastHasExtra = await hasExtraAdvisory(last.imageId);
    await waitFor('the old snapshot file to go', async () =>
      existsSync(join(busy.dir, 'db', `${v1}.db`)) ? undefined : true,
    );

    expect({
      downloaded,
      first: { status: onV1.status, startedOn: startedOn(first.scanId), newAdvisory: firstHasExtra },
      update: update.status,
      published: {
        changed: v2 !== v1,
        origin: published.snapshot.origin,
        attempt: published.sync.lastAttempt,
      },
      v1FileWhileLeased,
      held: { status: heldScan.status, startedOn: startedOn(held.scanId), newAdvisory: heldHasExtra },
      last: {
        status: onV2.status,
        scheduledOn: onV2.dbVersion,
        startedOn: startedOn(last.scanId),
        newAdvisory: lastHasExtra,
      },
      swaps: workers.map((w) => w.log.filter((l) => l.msg === 'snapshot swapped').map((l) => [l.from, l.to])),
      files: workers.map((w) => [v1, v2].map((v) => existsSync(join(w.dir, 'db', `${v}.db`)))),
    }).toEqual({
      downloaded: [v1, v1],
      first: { status: 'completed', startedOn: [v1], newAdvisory: false },
      update: 202,
      published: {
        changed: true,
        origin: 'update',
        attempt: expect.objectContaining({
          trigger: 'request',
          outcome: 'updated',
          version: v2,
          error: null,
        }),
      },
      v1FileWhileLeased: true,
      held: { status: 'completed', startedOn: [v1], newAdvisory: false },
      last: { status: 'completed', scheduledOn: v2, startedOn: [v2], newAdvisory: true },
      swaps: [[[v1, v2]], [[v1, v2]]],
      files: [
        [false, true],
        [false, true],
      ],
    });
  });

  it('keeps the current snapshot when an update fails, and GET /db shows the error', async () => {
    feeds.fault(SECDB, [], { status: 500 });
    try {
      const update = await api.call('POST', '/api/v1/db/update');
      const info = await waitFor('the failed update to end', async () => {
        const i = await dbInfo();
        return i.sync.lastAttempt?.outcome !== 'running' && !i.sync.running ? i : undefined;
      });
      const alpine = info.sources.find((s) => s.name === 'alpine')!;
      expect({
        update: update.status,
        version: info.version,
        attempt: { outcome: info.sync.lastAttempt?.outcome, code: info.sync.lastAttempt?.error?.code },
        alpine: {
          failed: /^ENG_FEED_HTTP: /.test(alpine.lastError ?? ''),
          checked: alpine.checkedAt !== null,
        },
        workers: workers.map((w) => w.handle.dbVersion),
      }).toEqual({
        update: 202,
        version: v2,
        attempt: { outcome: 'failed', code: 'ENG_FEED_HTTP' },
        alpine: { failed: true, checked: true },
        workers: [v2, v2],
      });
    } finally {
      feeds.clearFaults();
    }
  });

  it('serves the snapshot to an API token with the read scope (ETag, 304), and updates only to admins', async () => {
    const cli = new ApiClient(server.url);
    await cli.login(ADMIN.email, ADMIN.password);
    const token = await cli.useNewToken(['read']);
    const auth = { authorization: `Bearer ${token}` };
    const full = await fetch(`${server.url}/api/v1/db/snapshot`, { headers: auth });
    const bytes = Buffer.from(await full.arrayBuffer());
    const again = await fetch(`${server.url}/api/v1/db/snapshot`, {
      headers: { ...auth, 'if-none-match': full.headers.get('etag')! },
    });
    const ranged = await fetch(`${server.url}/api/v1/db/snapshots/${v2}`, {
      headers: { ...auth, range: 'bytes=0-15' },
    });
    const anonymous = await fetch(`${server.url}/api/v1/db/snapshot`);
    const update = await cli.call('POST', '/api/v1/db/update');
    expect({
      full: {
        status: full.status,
        etag: full.headers.get('etag'),
        sha256: createHash('sha256').update(bytes).digest('hex') === full.headers.get('x-vigil-db-sha256'),
      },
      again: again.status,
      ranged: {
        status: ranged.status,
        range: ranged.headers.get('content-range'),
        body: Buffer.from(await ranged.arrayBuffer()).toString('latin1'),
      },
      anonymous: anonymous.status,
      update: { status: update.status, code: (update.body as { code: string }).code },
    }).toEqual({
      full: { status: 200, etag: `"${v2}"`, sha256: true },
      again: 304,
      ranged: { status: 206, range: `bytes 0-15/${bytes.length}`, body: 'SQLite format 3\0' },
      anonymous: 401,
      update: { status: 403, code: 'CP_FORBIDDEN' },
    });
  });

  it('lets one control plane at a time update: a second `vigil control-plane` on the same database and directory', async () => {
    const [http, grpc] = await Promise.all([freePort(), freePort()]);
    const second = new ControlPlaneProcess(
      {
        ...controlPlaneEnv,
        VIGIL_DATA_DIR: join(dir, 'control-plane-2'),
        VIGIL_DB_SOURCES: 'nvd,alpine',
        VIGIL_LOG_LEVEL: 'warn',
      },
      { http, grpc },
    );
    await second.start();
    const secondApi = new ApiClient(second.url);
    await secondApi.login(ADMIN.email, ADMIN.password);
    await secondApi.useNewToken(['admin']);
    feeds.nvd.hangAtStartIndex = 0;
    const from = feeds.log.length;
    const started = await secondApi.call('POST', '/api/v1/db/update');
    await waitFor('the second control plane to be fetching', async () =>
      feeds.since(from).some((r) => r.path === NVD_PATH) ? true : undefined,
    );
    const refused = await api.call('POST', '/api/v1/db/update');
    const whileRunning = await dbInfo();
    const requestsWhileRunning = [...new Set(feeds.since(from).map((r) => r.path))];
    feeds.nvd.hangAtStartIndex = undefined;
    feeds.releaseHung();
    const after = await waitFor('the second control plane to finish', async () => {
      const i = await dbInfo();
      return i.sync.running || i.sync.lastAttempt?.outcome === 'running' ? undefined : i;
    });
    const thenHere = await api.call('POST', '/api/v1/db/update');
    await second.stop();
    expect({
      started: started.status,
      refused: { status: refused.status, code: (refused.body as { code: string }).code },
      runningSeenHere: whileRunning.sync.running,
      requestsWhileRunning,
      after: after.sync.lastAttempt?.trigger,
      thenHere: thenHere.status,
    }).toEqual({
      started: 202,
      refused: { status: 409, code: 'CP_CONFLICT' },
      runningSeenHere: true,
      requestsWhileRunning: [NVD_PATH],
      after: 'request',
      thenHere: 202,
    });
  });
});
