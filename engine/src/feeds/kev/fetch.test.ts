import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import type { FeedRecord, FetchResult } from '../types.js';
import { createKevFeed, kevUrl, KEV_URL } from './index.js';

/** One scripted answer per request, in turn (the last one repeats). */
interface Answer {
  status: number;
  body?: Buffer | string;
  headers?: Record<string, string>;
}

const requests: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
let script: Answer[] = [];
const server = createServer((req, res) => {
  requests.push({ path: req.url ?? '', headers: req.headers });
  const answer = script[Math.min(requests.length - 1, script.length - 1)]!;
  res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
});
let base = '';
let workDir = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  workDir = await mkdtemp(join(tmpdir(), 'vigil-kev-'));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(workDir, { recursive: true, force: true });
});
afterEach(() => {
  requests.length = 0;
});

const feed = createKevFeed({ sleepMs: async () => {} });
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function records(result: FetchResult): Promise<FeedRecord[]> {
  if (result.status !== 'updated') throw new Error('not updated');
  const out: FeedRecord[] = [];
  for (const body of result.bodies) for await (const r of feed.parse(body)) out.push(r);
  return out;
}

describe('kev url', () => {
  it.each([
    [undefined, KEV_URL],
    ['http://mirror.local/kev/', 'http://mirror.local/kev/known_exploited_vulnerabilities.json'],
    ['http://mirror.local/kev.json', 'http://mirror.local/kev.json'],
  ])('baseUrl %s → %s', (baseUrl, url) => {
    expect(kevUrl(baseUrl === undefined ? {} : { baseUrl })).toBe(url);
  });
});

describe.skipIf(!hasRealdata)('kev fetch against a loopback server replaying the real catalog', () => {
  const catalog = hasRealdata
    ? readFileSync(realdata('feeds/kev/claircore-known_exploited_vulnerabilities.json'))
    : Buffer.alloc(0);
  const lastModified = 'Mon, 24 Feb 2025 17:55:31 GMT';

  it('downloads in full, then gets 304 for the same ETag → unchanged', async () => {
    script = [{ status: 200, body: catalog, headers: { etag: '"kev-1"', 'last-modified': lastModified } }];
    const first = await feed.fetch({ workDir, baseUrl: `${base}/feeds/` });
    expect(first).toMatchObject({
      status: 'updated',
      mode: 'full',
      checkpoint: { sha256: sha256(catalog), etag: '"kev-1"', lastModified },
    });
    expect((await records(first)).map((r) => (r.type === 'kev' ? r.entry.cveId : r.type))).toEqual([
      'CVE-2017-3066',
      'CVE-2021-44228',
    ]);

    script = [{ status: 304 }];
    const second = await feed.fetch({
      workDir,
      baseUrl: `${base}/feeds/`,
      checkpoint: first.status === 'updated' ? first.checkpoint : {},
    });
    expect(second).toEqual({ status: 'unchanged' });
    expect(requests.map((r) => [r.path, r.headers['if-none-match'], r.headers['if-modified-since']])).toEqual(
      [
        ['/feeds/known_exploited_vulnerabilities.json', undefined, undefined],
        ['/feeds/known_exploited_vulnerabilities.json', '"kev-1"', lastModified],
      ],
    );
  });

  it('the same bytes again without ETag support → unchanged; other bytes → updated', async () => {
    const checkpoint = { sha256: sha256(catalog) };
    script = [{ status: 200, body: catalog }];
    expect(await feed.fetch({ workDir, baseUrl: `${base}/kev.json`, checkpoint })).toEqual({
      status: 'unchanged',
    });

    const changed = Buffer.from(catalog.toString('utf8').replace('"count": 2', '"count": 3'));
    script = [{ status: 200, body: changed }];
    const result = await feed.fetch({ workDir, baseUrl: `${base}/kev.json`, checkpoint });
    expect(result).toMatchObject({ status: 'updated', checkpoint: { sha256: sha256(changed) } });
    expect(result.status === 'updated' && 'etag' in result.checkpoint).toBe(false);
  });

  it('sends no conditional headers when the archived copy is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-kev-empty-'));
    script = [{ status: 200, body: catalog, headers: { etag: '"kev-1"' } }];
    const result = await feed.fetch({
      workDir: dir,
      baseUrl: `${base}/kev.json`,
      checkpoint: { sha256: 'old', etag: '"kev-1"' },
    });
    expect(result.status).toBe('updated');
    expect(requests[0]!.headers['if-none-match']).toBeUndefined();
    await rm(dir, { recursive: true, force: true });
  });

  it('retries a 503, waiting what Retry-After says, then succeeds', async () => {
    const waits: number[] = [];
    const recording = createKevFeed({ sleepMs: async (ms) => void waits.push(ms) });
    script = [
      { status: 503, headers: { 'retry-after': '2' }, body: 'busy' },
      { status: 200, body: catalog },
    ];
    const result = await recording.fetch({ workDir, baseUrl: `${base}/kev.json` });
    expect([result.status, requests.length, waits]).toEqual(['updated', 2, [2000]]);
  });

  it('a 404 is a coded ENG_FEED_HTTP error', async () => {
    script = [{ status: 404, body: 'gone' }];
    await expect(feed.fetch({ workDir, baseUrl: `${base}/kev.json` })).rejects.toMatchObject({
      code: 'ENG_FEED_HTTP',
    });
  });
});
