/**
 * The all-in-one server for real: PGlite and chdb in a temp data dir, the in-process queue, an in-process worker
 * (the worker package's runWorker) reporting over loopback gRPC, the demo seeded on first start; then a restart
 * on the same data dir, and a forced rescan of the unchanged demo, which reuses every report's rows.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/harness/process.js';
import { runWorker } from '../../worker/src/index.js';
import { loadServerConfig, type ServerConfig } from './config.js';
import { ApiClient, waitFor, type ApiResponse } from './demo/testdata/api-client.js';
import { DEMO_FEEDS_DIR } from './demo/vulndb.js';
import { startAllInOne, type ServerHandle } from './server.js';

interface ImageItem {
  id: string;
  repository: string;
  tags: string[];
  lastScanId: string | null;
  summary: { counts: { total: number; critical: number }; packages: number } | null;
}

let dataDir: string;
let config: ServerConfig;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-aio-'));
  config = loadServerConfig('server', {
    VIGIL_DATA_DIR: dataDir,
    VIGIL_HOST: '127.0.0.1',
    PORT: '0',
    VIGIL_GRPC_PORT: '0',
    VIGIL_FEEDS_DIR: DEMO_FEEDS_DIR,
    VIGIL_WORKERS: '1',
    VIGIL_DRAIN_TIMEOUT: '5',
    VIGIL_LOG_LEVEL: 'silent',
  });
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/** `whileStarting` runs as the workers start: the servers listen, the demo org and its admin do not exist yet */
async function start(
  whileStarting = async (): Promise<void> => {},
  startConfig = config,
): Promise<{ server: ServerHandle; printed: string }> {
  let printed = '';
  const server = await startAllInOne(
    startConfig,
    {
      startWorker: async (options) => {
        await whileStarting();
        return runWorker({ ...options, heartbeatMs: 1_000 });
      },
    },
    { print: (text) => void (printed += text) },
  );
  return { server, printed };
}

/** The analytics insert and report-contents series of GET /metrics, by series. */
async function analyticsMetrics(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const wanted = /^(vigil_(?:analytics_inserts_total|report_contents_total)\S*) (\S+)$/;
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => wanted.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, Number(m[2])]),
  );
}

const imagesOf = async (api: ApiClient): Promise<ImageItem[]> =>
  ((await api.call('GET', '/api/v1/images?sort=name&order=asc')).body as { items: ImageItem[] }).items;

describe('vigil server (all-in-one)', () => {
  let first: ImageItem[];
  let password: string;

  it('starts, seeds the demo and scans its images through the worker path (ready only once seeded)', async () => {
    const port = await freePort();
    let starting: ApiResponse | undefined;
    const { server, printed } = await start(
      async () => void (starting ??= await new ApiClient(`http://127.0.0.1:${port}`).call('GET', '/readyz')),
      { ...config, port },
    );
    try {
      password = /password +(\S+)/.exec(printed)?.[1] ?? '';
      const api = new ApiClient(server.url);
      const health = await api.call('GET', '/healthz');
      const ready = await api.call('GET', '/readyz');
      const landing = await api.call('GET', '/');
      const login = await api.login('admin@demo.vigil.local', password);
      await api.useNewToken(['read', 'ci']);
      first = await waitFor('the demo scans to complete', async () => {
        const items = await imagesOf(api);
        return items.length === 3 && items.every((i) => i.summary) ? items : undefined;
      });
      const summary = (await api.call('GET', '/api/v1/summary')).body as {
        images: number;
        scannedImages: number;
      };
      const findings = (await api.call('GET', `/api/v1/images/${first[1]!.id}/findings?limit=1000`)).body as {
        items: Array<{ id: string }>;
      };
      expect({
        printed: {
          url: printed.includes(server.url),
          admin: printed.includes('admin@demo.vigil.local'),
          passwordShown: password.length >= 12,
          token: printed.includes('/api/v1/tokens'),
        },
        health: health.status,
        starting: [starting?.status, starting?.body],
        ready: [ready.status, ready.body],
        landing: [landing.status, String(landing.body).includes('href="/api/docs"')],
        login: [login.status, (login.body as { org: { slug: string } }).org.slug],
        seed: server.seed && { ...server.seed, org: server.seed.org.slug, generatedPassword: password },
        images: first.map((i) => [i.repository, i.tags, i.summary!.packages, i.summary!.counts.total > 0]),
        summary: { images: summary.images, scannedImages: summary.scannedImages },
        nodeFindings: findings.items.map((f) => f.id).filter((id) => id === 'CVE-2021-44906'),
      }).toEqual({
        printed: { url: true, admin: true, passwordShown: true, token: true },
        health: 200,
        starting: [
          503,
          {
            code: 'CP_UNAVAILABLE',
            message: 'not ready: startup',
            checks: { database: 'ok', analytics: 'ok', queue: 'ok', startup: 'failed' },
          },
        ],
        ready: [
          200,
          { status: 'ready', checks: { database: 'ok', analytics: 'ok', queue: 'ok', startup: 'ok' } },
        ],
        landing: [200, true],
        login: [200, 'demo'],
        seed: {
          org: 'demo',
          email: 'admin@demo.vigil.local',
          generatedPassword: password,
          createdAdmin: true,
          scansRequested: 3,
        },
        images: [
          ['demo/alpine-base', ['3.11'], 13, true],
          ['demo/node-api', ['1.4.2'], 17, true],
          ['demo/python-worker', ['2.0'], 16, true],
        ],
        summary: { images: 3, scannedImages: 3 },
        nodeFindings: ['CVE-2021-44906'],
      });
    } finally {
      await server.shutdown();
    }
    // after a graceful shutdown nothing answers
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('restarts on the same data dir without creating anything again', async () => {
    const { server, printed } = await start();
    try {
      const api = new ApiClient(server.url);
      const login = await api.login('admin@demo.vigil.local', password);
      const again = await imagesOf(api);
      const orgs = await api.call('GET', '/api/v1/users');
      expect({
        seed: server.seed && { ...server.seed, org: server.seed.org.slug },
        passwordShown: printed.includes(password),
        login: login.status,
        images: again.map((i) => [i.id, i.lastScanId]),
        users: (orgs.body as { items: Array<{ email: string }> }).items.map((u) => u.email),
      }).toEqual({
        seed: {
          org: 'demo',
          email: 'admin@demo.vigil.local',
          generatedPassword: null,
          createdAdmin: false,
          scansRequested: 0,
        },
        passwordShown: false,
        login: 200,
        images: first.map((i) => [i.id, i.lastScanId]),
        users: ['admin@demo.vigil.local'],
      });
    } finally {
      await server.shutdown();
    }
  });

  it('a forced rescan of the unchanged demo writes no inventory or finding rows (/metrics shows what it did)', async () => {
    const { server } = await start();
    try {
      const api = new ApiClient(server.url);
      await api.login('admin@demo.vigil.local', password);
      await api.useNewToken(['read', 'admin']);
      const before = await analyticsMetrics(server.url);
      const bulk = await api.call('POST', '/api/v1/scans/bulk', { filter: {}, force: true });
      const batchId = (bulk.body as { id: string }).id;
      const counts = await waitFor('the rescan to complete', async () => {
        const res = await api.call('GET', `/api/v1/scans/bulk/${batchId}`);
        const c = (res.body as { counts: Record<string, number>; total: number }).counts;
        return c.completed + c.failed + c.cancelled === 3 ? c : undefined;
      });
      const after = await analyticsMetrics(server.url);
      const delta = (series: string) => (after[series] ?? 0) - (before[series] ?? 0);
      const inserts = (table: string) => `vigil_analytics_inserts_total{table="${table}"}`;
      const contents = (kind: string, stored: string) =>
        `vigil_report_contents_total{kind="${kind}",stored="${stored}"}`;
      const again = await imagesOf(api);
      expect({
        bulk: bulk.status,
        counts: { completed: counts.completed, failed: counts.failed },
        // the demo's first scans (earlier in this process: the registry is the process's) wrote rows
        firstScansWrote: (before[inserts('packages')] ?? 0) > 0 && (before[inserts('findings')] ?? 0) > 0,
        inserts: {
          packages: delta(inserts('packages')),
          findings: delta(inserts('findings')),
          summaries: delta(inserts('scan_summaries')) > 0,
        },
        contents: ['packages', 'findings'].flatMap((kind) =>
          ['written', 'reused'].map((stored) => delta(contents(kind, stored))),
        ),
        images: again.map((i) => [i.repository, i.summary?.packages, i.summary?.counts]),
      }).toEqual({
        bulk: 202,
        counts: { completed: 3, failed: 0 },
        firstScansWrote: true,
        // no insert into packages or findings: every report's rows were those of the image's first scan
        inserts: { packages: 0, findings: 0, summaries: true },
        contents: [0, 3, 0, 3],
        images: first.map((i) => [i.repository, i.summary!.packages, i.summary!.counts]),
      });
    } finally {
      await server.shutdown();
    }
  });
});
