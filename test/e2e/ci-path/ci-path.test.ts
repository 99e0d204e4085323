/**
 * The CI path (issue #6 item 5) through real parts: the all-in-one server (PGlite, chdb, the in-process queue and
 * a real worker, the demo images and database), a real docker-registry behind the fleet's throttling proxy, and
 * the built `vigil` CLI in child processes. Covers the upload of a local scan (`--server --token`: a `read` token
 * refused, a `ci` token recorded and visible through the API), the fleet's database in the CLI (downloaded once,
 * then a 304; a corrupted cache or download rejected by hash), `GET /scans/{id}?wait=` and `vigil remote-scan`
 * exit codes (findings at the severity, below the threshold, an unknown image, a failed, a cancelled and a
 * timed-out scan), with the same gating as a local scan of the same image.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../../control-plane/src/config.js';
import { ApiClient, waitFor } from '../../../control-plane/src/demo/testdata/api-client.js';
import { writeDemoImages, type DemoImage } from '../../../control-plane/src/demo/images.js';
import { DEMO_FEEDS_DIR } from '../../../control-plane/src/demo/vulndb.js';
import { startAllInOne, type ServerHandle } from '../../../control-plane/src/server.js';
import { runWorker } from '../../../worker/src/index.js';
import { pushFleetImages, type FleetImage } from '../../harness/fleet-images.js';
import { startRegistryProxy, type RegistryProxy } from '../../harness/fleet-proxy.js';
import { freePort } from '../../harness/process.js';
import { startRegistry, type RegistryHandle } from '../../harness/registry.js';
import { runVigil, VIGIL_BIN, type CliResult } from '../../support/cli.js';

const EMAIL = 'admin@ci.example.com';
const PASSWORD = 'ci-path-admin-password';

let dir: string;
let server: ServerHandle;
let registry: RegistryHandle;
let proxy: RegistryProxy;
let pushed: FleetImage[];
let demo: DemoImage[];
let admin: ApiClient;
const tokens: Record<'read' | 'ci', string> = { read: '', ci: '' };

async function newToken(scopes: string[]): Promise<string> {
  const res = await admin.call('POST', '/api/v1/tokens', { name: `ci-path-${scopes.join('-')}`, scopes });
  if (res.status !== 201) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { secret: string }).secret;
}

/** The fields of API answers the tests read. */
interface ApiBody {
  code?: string;
  status?: string;
  lastScanId?: string;
  items?: Array<{ summary?: unknown }>;
}

/** A call of the API with a bearer token: status and JSON body. */
async function api(token: string, method: string, path: string): Promise<{ status: number; body: ApiBody }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as ApiBody };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-ci-path-'));
  registry = await startRegistry();
  proxy = await startRegistryProxy(registry.url);
  pushed = await pushFleetImages(registry.url, { count: 3, repositories: 1, referenceHost: proxy.host });
  demo = await writeDemoImages(join(dir, 'images'));
  const config = loadServerConfig('server', {
    VIGIL_DATA_DIR: join(dir, 'server'),
    VIGIL_HOST: '127.0.0.1',
    PORT: '0',
    VIGIL_GRPC_PORT: '0',
    VIGIL_FEEDS_DIR: DEMO_FEEDS_DIR,
    VIGIL_WORKERS: '1',
    VIGIL_DRAIN_TIMEOUT: '5',
    VIGIL_LOG_LEVEL: 'silent',
    VIGIL_ADMIN_EMAIL: EMAIL,
    VIGIL_ADMIN_PASSWORD: PASSWORD,
    VIGIL_INSECURE_REGISTRIES: proxy.host,
  });
  server = await startAllInOne(
    config,
    { startWorker: (options) => runWorker({ ...options, heartbeatMs: 1_000 }) },
    { print: () => undefined },
  );
  admin = new ApiClient(server.url);
  const login = await admin.login(EMAIL, PASSWORD);
  if (login.status !== 200) throw new Error(`login: ${JSON.stringify(login.body)}`);
  tokens.read = await newToken(['read']);
  tokens.ci = await newToken(['ci']);
  // the demo's own scans finish first, so the tests below see a settled fleet
  await waitFor('the demo scans', async () => {
    const items = (await api(tokens.read, 'GET', '/images')).body.items as Array<{ summary: unknown }>;
    return items.length === 3 && items.every((i) => i.summary) ? true : undefined;
  });
});

afterAll(async () => {
  proxy?.release();
  await server?.shutdown();
  await proxy?.stop();
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const demoImage = (repository: string): DemoImage => demo.find((i) => i.repository === repository)!;

/** `vigil image --input <demo image>` against the server, with its own CLI cache dir. */
function scanWithServer(
  image: DemoImage,
  token: string,
  cacheDir: string,
  extra: string[] = [],
  serverUrl = server.url,
): Promise<CliResult> {
  return runVigil(
    ['image', '--input', image.path, '--server', serverUrl, '--format', 'json', '--no-cache', ...extra],
    { env: { VIGIL_TOKEN: token, VIGIL_CACHE_DIR: cacheDir } },
  );
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('vigil: '));
const ids = (json: string): string[] =>
  (JSON.parse(json) as { vulnerabilities: Array<{ id: string; pkgName: string }> }).vulnerabilities
    .map((v) => `${v.id} ${v.pkgName}`)
    .sort();

describe('vigil image … --server URL --token T (report upload)', () => {
  it('refuses the upload with a read token (exit 5, coded, token never printed); a ci token is recorded and visible', async () => {
    const image = demoImage('demo/node-api');
    const cache = join(dir, 'cache-upload');
    const refused = await scanWithServer(image, tokens.read, cache);
    const accepted = await scanWithServer(image, tokens.ci, cache);
    const link = /report uploaded to (\S+) as scan (\S+): (\S+)/.exec(accepted.stderr);
    const imageId = link?.[3]?.split('/images/')[1] ?? '';
    const viaApi = await api(tokens.read, 'GET', `/images/${imageId}`);
    const findings = await api(tokens.read, 'GET', `/images/${imageId}/findings?limit=1000`);
    const uploaded = (JSON.parse(accepted.stdout) as { vulnerabilities: unknown[] }).vulnerabilities.length;
    expect({
      refused: {
        code: refused.code,
        error: lines(refused.stderr)
          .filter((l) => l.includes('CLI_'))
          .map((l) => l.split(' answered ')[0]),
        forbidden: refused.stderr.includes('403: CP_FORBIDDEN'),
        // the local report is still printed before the upload is refused
        reported: ids(refused.stdout).length > 0,
        tokenShown: refused.stderr.includes(tokens.read) || refused.stdout.includes(tokens.read),
      },
      accepted: {
        code: accepted.code,
        server: link?.[1],
        console: link?.[3]?.startsWith(`${server.url}/images/`),
        tokenShown: accepted.stderr.includes(tokens.ci) || accepted.stdout.includes(tokens.ci),
      },
      image: {
        status: viaApi.status,
        lastScanId: viaApi.body.lastScanId,
        findings: findings.body.items?.length,
      },
    }).toEqual({
      refused: {
        code: 5,
        error: [`vigil: CLI_SERVER_FORBIDDEN: POST ${server.url}/api/v1/reports`],
        forbidden: true,
        reported: true,
        tokenShown: false,
      },
      accepted: { code: 0, server: server.url, console: true, tokenShown: false },
      image: { status: 200, lastScanId: link?.[2], findings: uploaded },
    });
  });

  it('keeps the local gate, matches without uploading (--no-upload), fails on an unreachable server (exit 6) or a missing token (exit 2)', async () => {
    const image = demoImage('demo/node-api');
    const cache = join(dir, 'cache-gate');
    const gated = await scanWithServer(image, tokens.ci, cache, ['--exit-code', '3']);
    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await scanWithServer(image, tokens.ci, cache, [], closed);
    const noToken = await runVigil(['image', '--input', image.path, '--server', server.url], {
      env: { VIGIL_CACHE_DIR: cache, VIGIL_TOKEN: '' },
    });
    // --no-upload: the fleet's database only, for which a read token is enough
    const dbOnly = await scanWithServer(image, tokens.read, cache, ['--no-upload']);
    expect({
      gated: [gated.code, gated.stderr.includes('report uploaded')],
      dbOnly: [
        dbOnly.code,
        dbOnly.stderr.includes('report uploaded'),
        ids(dbOnly.stdout).join() === ids(gated.stdout).join(),
      ],
      unreachable: [unreachable.code, lines(unreachable.stderr)[0]?.split(':').slice(0, 2).join(':')],
      noToken: [noToken.code, lines(noToken.stderr)[0]?.split(':').slice(0, 2).join(':')],
    }).toEqual({
      gated: [3, true],
      dbOnly: [0, false, true],
      unreachable: [6, 'vigil: CLI_SERVER_UNREACHABLE'],
      noToken: [2, 'vigil: ENG_INVALID_ARGUMENT'],
    });
  });
});

/** A reverse proxy to the server recording each snapshot request, corrupting snapshot bodies when told. */
async function startSnapshotProxy(): Promise<{
  url: string;
  seen: Array<[string, number]>;
  corrupt: boolean;
  stop(): Promise<void>;
}> {
  const target = new URL(server.url);
  const state = {
    url: '',
    seen: [] as Array<[string, number]>,
    corrupt: false,
    stop: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
  const http: Server = createServer((req, res) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        const snapshot = req.url === '/api/v1/db/snapshot';
        if (snapshot)
          state.seen.push([req.headers['if-none-match'] ? 'if-none-match' : 'plain', up.statusCode!]);
        res.writeHead(up.statusCode!, up.headers);
        let first = true;
        up.on('data', (chunk: Buffer) => {
          if (snapshot && state.corrupt && first) {
            chunk = Buffer.from(chunk);
            chunk[chunk.length - 1] = chunk[chunk.length - 1]! ^ 0xff;
          }
          first = false;
          res.write(chunk);
        });
        up.on('end', () => res.end());
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address() as { port: number };
  state.url = `http://127.0.0.1:${address.port}`;
  return state;
}

describe("the fleet's vulnerability database in the CLI", () => {
  it('downloads once, then reuses it on a 304; a corrupted cache is rejected by hash and downloaded again', async () => {
    const image = demoImage('demo/alpine-base');
    const cache = join(dir, 'cache-db');
    const snapshots = await startSnapshotProxy();
    try {
      const first = await scanWithServer(image, tokens.ci, cache, [], snapshots.url);
      const second = await scanWithServer(image, tokens.ci, cache, [], snapshots.url);
      const files = (await readdir(join(cache, 'fleet-db'))).sort();
      const db = join(
        cache,
        'fleet-db',
        files.find((f) => f.endsWith('.db'))!,
      );
      const bytes = await readFile(db);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
      await writeFile(db, bytes);
      const third = await scanWithServer(image, tokens.ci, cache, [], snapshots.url);
      const version = files[0]!.replace(/\.(db|sha256)$/, '');
      const noteOf = (r: CliResult) => lines(r.stderr).filter((l) => l.includes('database'));
      expect({
        codes: [first.code, second.code, third.code],
        requests: snapshots.seen,
        notes: [noteOf(first), noteOf(second), noteOf(third)],
        files,
        // the same findings each time: the fleet's database is the one matched with
        sameFindings:
          ids(second.stdout).join() === ids(first.stdout).join() &&
          ids(third.stdout).join() === ids(first.stdout).join(),
      }).toEqual({
        codes: [0, 0, 0],
        requests: [
          ['plain', 200],
          ['if-none-match', 304],
          ['if-none-match', 304],
          ['plain', 200],
        ],
        notes: [
          [`vigil: using the vulnerability database ${version} of ${snapshots.url} (downloaded)`],
          [`vigil: using the vulnerability database ${version} of ${snapshots.url} (cached, unchanged)`],
          [
            `vigil: the cached fleet database ${version} failed its SHA-256 check: discarded and downloaded again`,
            `vigil: using the vulnerability database ${version} of ${snapshots.url} (downloaded)`,
          ],
        ],
        files: [`${version}.db`, `${version}.sha256`],
        sameFindings: true,
      });
    } finally {
      await snapshots.stop();
    }
  });

  it('rejects a download that does not verify (exit 8) and keeps nothing of it', async () => {
    const cache = join(dir, 'cache-corrupt');
    const snapshots = await startSnapshotProxy();
    snapshots.corrupt = true;
    try {
      const result = await scanWithServer(demoImage('demo/alpine-base'), tokens.ci, cache, [], snapshots.url);
      expect({
        code: result.code,
        error: lines(result.stderr).map((l) => l.split(':').slice(0, 2).join(':')),
        discarded: result.stderr.includes('it was discarded'),
        requests: snapshots.seen,
        kept: await readdir(join(cache, 'fleet-db')),
      }).toEqual({
        code: 8,
        error: ['vigil: CLI_SNAPSHOT_INVALID'],
        discarded: true,
        requests: [
          ['plain', 200],
          ['plain', 200],
        ],
        kept: [],
      });
    } finally {
      await snapshots.stop();
    }
  });
});

/** Starts `vigil`; `seen(text)` resolves once its stderr contains `text`, with the stderr so far. */
function startVigil(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [VIGIL_BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers: Array<() => void> = [];
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    for (const w of watchers) w();
  });
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })),
  );
  const seen = (text: string) =>
    new Promise<string>((resolve, reject) => {
      const check = () => stderr.includes(text) && resolve(stderr);
      watchers.push(check);
      check();
      void done.then(() => reject(new Error(`vigil ended without printing ${text}: ${stderr}`)));
    });
  return { seen, done };
}

const remoteScan = (reference: string, extra: string[] = []): Promise<CliResult> =>
  runVigil(['remote-scan', reference, '--server', server.url, ...extra], { env: { VIGIL_TOKEN: tokens.ci } });

const firstError = (r: CliResult): string | undefined =>
  lines(r.stderr)
    .find((l) => / (CLI|ENG)_/.test(l))
    ?.split(':')
    .slice(0, 2)
    .join(':');

describe('vigil remote-scan', () => {
  it('gates exactly as a local scan of the same image: N with findings at the severity, 0 below the threshold', async () => {
    const image = demoImage('demo/node-api');
    const snapshot = await fetch(`${server.url}/api/v1/db/snapshot`, {
      headers: { authorization: `Bearer ${tokens.read}` },
    });
    const dbFile = join(dir, 'fleet.db');
    await writeFile(dbFile, Buffer.from(await snapshot.arrayBuffer()));
    const all = await remoteScan('demo/node-api:1.4.2', ['--format', 'json', '--exit-code', '3']);
    const present = new Set(
      (JSON.parse(all.stdout) as { vulnerabilities: Array<{ severity: string }> }).vulnerabilities.map(
        (v) => v.severity,
      ),
    );
    const absent = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'].filter((s) => !present.has(s));
    const cases = [
      ['--exit-code', '3'],
      ['--severity', 'CRITICAL,HIGH', '--ignore-unfixed', '--exit-code', '4'],
      ['--severity', absent.join(','), '--exit-code', '5'],
    ];
    const outcomes = [];
    for (const flags of cases) {
      const remote = await remoteScan('demo/node-api:1.4.2', ['--format', 'json', ...flags]);
      const local = await runVigil([
        'image',
        '--input',
        image.path,
        '--db',
        dbFile,
        '--format',
        'json',
        '--no-cache',
        ...flags,
      ]);
      outcomes.push({
        flags: flags.join(' '),
        remote: remote.code,
        local: local.code,
        same: ids(remote.stdout).join() === ids(local.stdout).join(),
        shown: ids(remote.stdout).length > 0,
      });
    }
    expect({ allCode: all.code, absent: absent.length > 0, outcomes }).toEqual({
      allCode: 3,
      absent: true,
      outcomes: [
        { flags: cases[0]!.join(' '), remote: 3, local: 3, same: true, shown: true },
        { flags: cases[1]!.join(' '), remote: 4, local: 4, same: true, shown: true },
        { flags: cases[2]!.join(' '), remote: 0, local: 0, same: true, shown: false },
      ],
    });
  });

  it('exits 10 for an image the fleet cannot resolve and for a scan that fails in the worker', async () => {
    const unknown = await remoteScan(`${proxy.host}/fleet/does-not-exist:1`);
    // the config blob of a pushed image is damaged in the registry's storage: its digest no longer verifies
    const image = pushed[2]!;
    const manifest = (await (
      await fetch(`${registry.url}/v2/${image.repository}/manifests/${image.tag}`, {
        headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      })
    ).json()) as { config: { digest: string } };
    const configPath = registry.blobPath(manifest.config.digest);
    await writeFile(configPath, Buffer.concat([await readFile(configPath), Buffer.from(' ')]));
    const failed = await remoteScan(image.reference);
    expect({
      unknown: [unknown.code, firstError(unknown), unknown.stderr.includes('CP_IMAGE_UNRESOLVABLE')],
      failed: [failed.code, firstError(failed), /failed: ENG_\w+/.test(failed.stderr)],
    }).toEqual({
      unknown: [10, 'vigil: CLI_REMOTE_SCAN_FAILED', true],
      failed: [10, 'vigil: CLI_REMOTE_SCAN_FAILED', true],
    });
  });

  it('exits 12 when the scan outlives --timeout and 11 when it is cancelled; ?wait= answers at once when it ends', async () => {
    proxy.hold();
    try {
      const image = pushed[0]!;
      const timedOut = await remoteScan(image.reference, ['--timeout', '3s']);
      const scanId = /scan (\S+) of /.exec(timedOut.stderr)?.[1] ?? '';
      // held mid-download until release(): running from the worker's claim on
      await waitFor('the scan to run', async () =>
        (await api(tokens.read, 'GET', `/scans/${scanId}`)).body.status === 'running' ? true : undefined,
      );
      const badWaits = await Promise.all(
        ['abc', '-1', '1.5'].map(
          async (w) => (await api(tokens.read, 'GET', `/scans/${scanId}?wait=${w}`)).body.code,
        ),
      );
      const shortWait = await api(tokens.read, 'GET', `/scans/${scanId}?wait=1`);
      // a long poll in flight and a second CLI following the same scan, both ended by the cancel
      const longPoll = api(tokens.read, 'GET', `/scans/${scanId}?wait=60`);
      const follower = startVigil(
        ['remote-scan', image.reference, '--server', server.url, '--timeout', '5m'],
        {
          VIGIL_TOKEN: tokens.ci,
        },
      );
      await follower.seen(`following the active scan ${scanId}`);
      const cancel = await admin.call('POST', `/api/v1/scans/${scanId}/cancel`);
      const [polled, cancelled] = await Promise.all([longPoll, follower.done]);
      expect({
        timedOut: [timedOut.code, firstError(timedOut)],
        badWaits,
        shortWait: [shortWait.status, shortWait.body.status],
        cancel: cancel.status,
        polled: [polled.status, polled.body.status],
        cancelled: [cancelled.code, firstError(cancelled)],
      }).toEqual({
        timedOut: [12, 'vigil: CLI_REMOTE_SCAN_TIMEOUT'],
        badWaits: ['CP_INVALID_ARGUMENT', 'CP_INVALID_ARGUMENT', 'CP_INVALID_ARGUMENT'],
        shortWait: [200, 'running'],
        cancel: 200,
        polled: [200, 'cancelled'],
        cancelled: [11, 'vigil: CLI_REMOTE_SCAN_CANCELLED'],
      });
    } finally {
      proxy.release();
    }
  });
});
