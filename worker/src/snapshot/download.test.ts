/**
 * The verified snapshot download against a loopback HTTP server that answers as the control plane does (the
 * control plane's own planFileResponse: ETag, Range, If-Range, 304, the SHA-256 headers) and misbehaves on cue:
 * a flipped byte, a body cut off halfway. The snapshot is a real one built from the demo feeds.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { planFileResponse } from '../../../control-plane/src/vulndb-sync/http-file.js';
import type { SnapshotManifest } from '../../../control-plane/src/vulndb-sync/snapshot-store.js';
import { buildDemoSnapshot } from '../../../control-plane/src/vulndb-sync/testdata/snapshots.js';
import { fetchCurrentSnapshot, fetchSnapshot, type DownloadOptions } from './download.js';

const TOKEN = 'worker-token-for-download-tests';

let dir: string;
let bytes: Buffer;
let manifest: SnapshotManifest;
let server: Server;
let url: string;
/** what the server does to its next answers: each entry is used once */
let faults: Array<'corrupt' | 'truncate'>;
let requests: Array<{ path: string; range?: string; ifRange?: string; ifNoneMatch?: string; status: number }>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-download-'));
  const version = await buildDemoSnapshot(join(dir, 'source.db'));
  bytes = await readFile(join(dir, 'source.db'));
  manifest = {
    version,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    schemaVersion: 0,
    builtAt: '2026-01-01T00:00:00.000Z',
    origin: 'seed',
    publishedAt: '2026-01-01T00:00:00.000Z',
  };
  server = createServer((req, res) => {
    const path = req.url ?? '';
    const known = path === '/api/v1/db/snapshot' || path === `/api/v1/db/snapshots/${version}`;
    const entry = {
      path,
      range: req.headers.range,
      ifRange: req.headers['if-range'] as string | undefined,
      ifNoneMatch: req.headers['if-none-match'],
      status: 0,
    };
    requests.push(entry);
    if (req.headers.authorization !== `Bearer ${TOKEN}` || !known) {
      entry.status = req.headers.authorization === `Bearer ${TOKEN}` ? 404 : 401;
      return res.writeHead(entry.status).end('{"code":"CP_NOT_FOUND","message":"no"}');
    }
    const plan = planFileResponse(
      manifest,
      { range: entry.range, 'if-range': entry.ifRange, 'if-none-match': entry.ifNoneMatch },
      path.endsWith('/snapshot'),
    );
    entry.status = plan.status;
    res.writeHead(plan.status, plan.headers);
    if (!plan.range) return res.end();
    let body = bytes.subarray(plan.range.start, plan.range.end + 1);
    const fault = faults.shift();
    if (fault === 'corrupt') {
      body = Buffer.from(body);
      body[body.length >> 1]! ^= 0xff;
    }
    if (fault === 'truncate') {
      // cut the connection once the worker has the first half on disk (what a resume can build on)
      const half = body.length >> 1;
      res.write(body.subarray(0, half));
      void partReaches(half).then(() => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

let target: string;
let retries: Array<{ attempt: number; code: string }>;
beforeEach(async () => {
  faults = [];
  requests = [];
  retries = [];
  target = await mkdtemp(join(dir, 'worker-'));
});

const options = (extra: Partial<DownloadOptions> = {}): DownloadOptions => ({
  url,
  token: TOKEN,
  dir: target,
  backoffMs: () => 10,
  onRetry: ({ attempt, code }) => retries.push({ attempt, code }),
  ...extra,
});

/** Resolves once the worker's partial download holds `size` bytes (polled; at most 20 s). */
async function partReaches(size: number): Promise<void> {
  const part = join(target, `.${manifest.version}.part`);
  for (let i = 0; i < 2_000 && ((await stat(part).catch(() => null))?.size ?? 0) < size; i++) await sleep(10);
}

const sha256Of = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
const shortRequests = () => requests.map(({ path, range, status }) => ({ path, range, status }));

describe('snapshot download', () => {
  it('downloads the current snapshot, verified, into <dir>/<version>.db', async () => {
    const got = await fetchCurrentSnapshot(options(), []);
    expect({
      got,
      sha256: await sha256Of(join(target, `${manifest.version}.db`)),
      files: await readdir(target),
    }).toEqual({
      got: { version: manifest.version, path: join(target, `${manifest.version}.db`) },
      sha256: manifest.sha256,
      files: [`${manifest.version}.db`],
    });
  });

  it('answers unchanged when the control plane says 304 to the versions it has', async () => {
    const got = await fetchCurrentSnapshot(options(), ['older', manifest.version]);
    expect({ got, requests, files: await readdir(target) }).toEqual({
      got: { unchanged: manifest.version },
      requests: [
        {
          path: '/api/v1/db/snapshot',
          range: undefined,
          ifRange: undefined,
          ifNoneMatch: `"older", "${manifest.version}"`,
          status: 304,
        },
      ],
      files: [],
    });
  });

  it('rejects a corrupt download by its SHA-256 and fetches that version again with backoff', async () => {
    faults = ['corrupt', 'corrupt'];
    const got = await fetchCurrentSnapshot(options(), []);
    expect({
      got: got.version,
      sha256: await sha256Of(join(target, `${manifest.version}.db`)),
      retries,
      requests: shortRequests(),
      files: await readdir(target),
    }).toEqual({
      got: manifest.version,
      sha256: manifest.sha256,
      retries: [
        { attempt: 1, code: 'WRK_SNAPSHOT_INVALID' },
        { attempt: 2, code: 'WRK_SNAPSHOT_INVALID' },
      ],
      requests: [
        { path: '/api/v1/db/snapshot', range: undefined, status: 200 },
        { path: `/api/v1/db/snapshots/${manifest.version}`, range: undefined, status: 200 },
        { path: `/api/v1/db/snapshots/${manifest.version}`, range: undefined, status: 200 },
      ],
      files: [`${manifest.version}.db`],
    });
  });

  it('resumes a truncated download with Range and If-Range and verifies the whole file', async () => {
    faults = ['truncate'];
    const got = await fetchSnapshot(options(), manifest.version);
    const half = bytes.length >> 1;
    expect({
      got: got.version,
      sha256: await sha256Of(got.path),
      retries,
      requests: requests.map(({ range, ifRange, status }) => ({ range, ifRange, status })),
    }).toEqual({
      got: manifest.version,
      sha256: manifest.sha256,
      retries: [{ attempt: 1, code: 'WRK_SNAPSHOT_UNAVAILABLE' }],
      requests: [
        { range: undefined, ifRange: undefined, status: 200 },
        { range: `bytes=${half}-`, ifRange: `"${manifest.version}"`, status: 206 },
      ],
    });
  });

  it('gives up after its attempts with WRK_SNAPSHOT_INVALID and leaves no partial file', async () => {
    faults = ['corrupt', 'corrupt', 'corrupt'];
    const error = await fetchSnapshot(options({ attempts: 3 }), manifest.version).catch((e: unknown) => e);
    expect({
      code: (error as { code?: string }).code,
      files: await readdir(target),
      final: existsSync(join(target, `${manifest.version}.db`)),
    }).toEqual({ code: 'WRK_SNAPSHOT_INVALID', files: [], final: false });
  });

  it('fails with WRK_SNAPSHOT_UNAVAILABLE when the control plane refuses the token', async () => {
    const error = await fetchCurrentSnapshot(options({ token: 'wrong', attempts: 2 }), []).catch(
      (e: unknown) => e,
    );
    expect({ code: (error as { code?: string }).code, statuses: requests.map((r) => r.status) }).toEqual({
      code: 'WRK_SNAPSHOT_UNAVAILABLE',
      statuses: [401, 401],
    });
  });
});
