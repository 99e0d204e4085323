import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import type { FeedRecord, FetchResult } from '../types.js';
import { createEpssFeed, epssUrl, EPSS_URL } from './index.js';

/** Scripted answers per path, in turn (the last one repeats). */
interface Answer {
  status: number;
  body?: Buffer | string;
  headers?: Record<string, string>;
}

const requests: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
let script: Record<string, Answer[]> = {};
const served = new Map<string, number>();
const server = createServer((req, res) => {
  const path = req.url ?? '';
  requests.push({ path, headers: req.headers });
  const answers = script[path];
  if (!answers) return res.writeHead(404).end('not found');
  const n = served.get(path) ?? 0;
  served.set(path, n + 1);
  const answer = answers[Math.min(n, answers.length - 1)]!;
  res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
});
let base = '';
let workDir = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  workDir = await mkdtemp(join(tmpdir(), 'vigil-epss-'));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(workDir, { recursive: true, force: true });
});
afterEach(() => {
  requests.length = 0;
  served.clear();
});

const waits: number[] = [];
const feed = createEpssFeed({ sleepMs: async (ms) => void waits.push(ms) });
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function records(result: FetchResult): Promise<FeedRecord[]> {
  if (result.status !== 'updated') throw new Error('not updated');
  const out: FeedRecord[] = [];
  for (const body of result.bodies) for await (const r of feed.parse(body)) out.push(r);
  return out;
}

describe('epss url', () => {
  it.each([
    [undefined, EPSS_URL],
    ['http://mirror.local/epss/', 'http://mirror.local/epss/epss_scores-current.csv.gz'],
    [
      'http://mirror.local/epss/epss_scores-2025-01-01.csv.gz',
      'http://mirror.local/epss/epss_scores-2025-01-01.csv.gz',
    ],
  ])('baseUrl %s → %s', (baseUrl, url) => {
    expect(epssUrl(baseUrl === undefined ? {} : { baseUrl })).toBe(url);
  });
});

describe.skipIf(!hasRealdata)('epss fetch against a loopback server replaying the real file', () => {
  const gz = hasRealdata
    ? gzipSync(readFileSync(realdata('feeds/epss/vunnel-epss-example.csv')))
    : Buffer.alloc(0);
  const dated = '/epss_scores-2025-02-20.csv.gz';

  it('follows the current → dated redirect, then gets 304 for the same ETag → unchanged', async () => {
    script = {
      '/epss_scores-current.csv.gz': [{ status: 302, headers: { location: dated } }],
      [dated]: [
        { status: 200, body: gz, headers: { etag: '"e-1"', 'content-type': 'application/x-gzip' } },
        { status: 304 },
      ],
    };
    const first = await feed.fetch({ workDir, baseUrl: `${base}/` });
    expect(first).toMatchObject({
      status: 'updated',
      mode: 'full',
      checkpoint: { sha256: sha256(gz), etag: '"e-1"' },
    });
    expect(
      (await records(first)).map((r) => (r.type === 'epss' ? `${r.entry.cveId}@${r.entry.date}` : r.type)),
    ).toEqual([
      'CVE-1999-0001@2025-02-20',
      'CVE-1999-0002@2025-02-20',
      'CVE-1999-0003@2025-02-20',
      'CVE-1999-0004@2025-02-20',
      'CVE-1999-0005@2025-02-20',
    ]);

    const second = await feed.fetch({
      workDir,
      baseUrl: `${base}/`,
      checkpoint: first.status === 'updated' ? first.checkpoint : {},
    });
    expect(second).toEqual({ status: 'unchanged' });
    expect(requests.map((r) => [r.path, r.headers['if-none-match']])).toEqual([
      ['/epss_scores-current.csv.gz', undefined],
      [dated, undefined],
      ['/epss_scores-current.csv.gz', '"e-1"'],
      [dated, '"e-1"'],
    ]);
  });

  it('retries a 429, waiting what Retry-After says; the same bytes again → unchanged', async () => {
    waits.length = 0;
    script = {
      '/scores.csv.gz': [
        { status: 429, headers: { 'retry-after': '3' } },
        { status: 200, body: gz },
      ],
    };
    const result = await feed.fetch({
      workDir,
      baseUrl: `${base}/scores.csv.gz`,
      checkpoint: { sha256: sha256(gz) },
    });
    expect([result, requests.length, waits]).toEqual([{ status: 'unchanged' }, 2, [3000]]);
  });

  it('new scores → updated with the new hash', async () => {
    const next = gzipSync(
      '#model_version:v2025.03.14,score_date:2025-02-21T00:00:00+0000\ncve,epss,percentile\nCVE-1999-0001,0.00400,0.73100\n',
    );
    script = { '/scores.csv.gz': [{ status: 200, body: next }] };
    const result = await feed.fetch({
      workDir,
      baseUrl: `${base}/scores.csv.gz`,
      checkpoint: { sha256: sha256(gz) },
    });
    expect(result).toMatchObject({ status: 'updated', checkpoint: { sha256: sha256(next) } });
    expect(await records(result)).toEqual([
      {
        type: 'epss',
        entry: { cveId: 'CVE-1999-0001', score: 0.004, percentile: 0.731, date: '2025-02-21' },
      },
    ]);
  });

  it('a 403 is a coded ENG_FEED_HTTP error', async () => {
    script = { '/scores.csv.gz': [{ status: 403, body: 'forbidden' }] };
    await expect(feed.fetch({ workDir, baseUrl: `${base}/scores.csv.gz` })).rejects.toMatchObject({
      code: 'ENG_FEED_HTTP',
    });
  });
});
