import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compress as zstdCompress } from 'zstd-napi';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { startReplayServer, type ReplayServer } from '../alpine/testdata/replay-server.js';
import type { FeedBody, FeedRecord, FetchResult } from '../types.js';
import { createRedhatFeed, planDelta, redhatFeed } from './index.js';

const TESTDATA = join(fileURLToPath(new URL('.', import.meta.url)), 'testdata');

async function parseAll(body: FeedBody): Promise<FeedRecord[]> {
  const out: FeedRecord[] = [];
  for await (const r of redhatFeed.parse(body)) out.push(r);
  return out;
}

/** What each body of a fetch result yields, in short: ids of upserts, `-id` for withdrawals. */
async function summary(result: FetchResult): Promise<string[][]> {
  if (result.status !== 'updated') return [];
  return Promise.all(
    result.bodies.map(async (b) =>
      (await parseAll(b)).map((r) =>
        r.type === 'vulnerability' ? r.vulnerability.id : r.type === 'withdrawn' ? `-${r.id}` : r.type,
      ),
    ),
  );
}

const csv = (rows: [string, string][]) => rows.map(([p, t]) => `"${p}","${t}"\n`).join('');

async function zstdTar(entries: [string, Buffer][]): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of entries) pack.entry({ name }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return zstdCompress(Buffer.concat(chunks));
}

describe('redhat: planDelta', () => {
  it("keeps each path's latest event after `since`", () => {
    const t = (s: string) => Date.parse(s);
    expect(
      planDelta(
        [
          { path: '2024/a.json', time: t('2025-01-01T00:00:00Z') },
          { path: '2024/b.json', time: t('2025-01-03T00:00:00Z') },
          { path: '2024/c.json', time: t('2025-01-05T00:00:00Z') },
        ],
        [
          { path: '2024/b.json', time: t('2025-01-04T00:00:00Z') },
          { path: '2024/c.json', time: t('2025-01-04T00:00:00Z') },
        ],
        t('2025-01-02T00:00:00Z'),
      ),
    ).toEqual({
      // a: before `since`; b: deleted after its change; c: changed after its deletion
      fetch: ['2024/c.json'],
      withdraw: [{ path: '2024/b.json', time: t('2025-01-04T00:00:00Z') }],
      newest: t('2025-01-05T00:00:00Z'),
    });
  });
});

describe.skipIf(!hasRealdata)('redhat: fetch against a loopback server', () => {
  let server: ReplayServer;
  let workDir: string;
  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'vigil-redhat-'));
  });
  afterEach(async () => {
    await server?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  async function routes() {
    const vex = await readFile(realdata('feeds/redhat/trivydb-csaf-vex-cve-2024-10041.json'));
    const synthetic = await readFile(join(TESTDATA, 'vex-synthetic.json'));
    return {
      vex,
      '/vex/archive_latest.txt': {
        body: await readFile(realdata('feeds/redhat/vunnel-csaf-archive_latest.txt')),
      },
      // archive_latest.txt (realdata) names csaf_advisories_2025-02-15.tar.zst
      '/vex/csaf_advisories_2025-02-15.tar.zst': { body: await zstdTar([['2024/cve-2024-10041.json', vex]]) },
      '/vex/2025/cve-2025-0001.json': { body: synthetic },
      '/vex/2024/cve-2024-10041.json': { body: vex },
    };
  }

  it('takes the archive plus the changes since its day, then answers 304s as unchanged, then applies a delta', async () => {
    const r = await routes();
    server = await startReplayServer({
      '/vex/archive_latest.txt': r['/vex/archive_latest.txt'],
      '/vex/csaf_advisories_2025-02-15.tar.zst': r['/vex/csaf_advisories_2025-02-15.tar.zst'],
      '/vex/2025/cve-2025-0001.json': r['/vex/2025/cve-2025-0001.json'],
      '/vex/2024/cve-2024-10041.json': r['/vex/2024/cve-2024-10041.json'],
      '/vex/changes.csv': [
        {
          etag: '"c1"',
          body: csv([
            ['2024/cve-2024-10041.json', '2025-02-10T00:00:00+00:00'], // in the archive
            ['2025/cve-2025-0001.json', '2025-02-15T10:00:00+00:00'], // the archive's day: fetched
            ['2024/cve-2024-2222.json', '2025-02-16T00:00:00+00:00'], // deleted later
          ]),
        },
        { etag: '"c1"', body: '' },
        {
          etag: '"c2"',
          body: csv([
            ['2024/cve-2024-10041.json', '2025-02-18T14:28:08+00:00'],
            ['2024/cve-2024-3333.json', '2025-02-18T15:00:00+00:00'], // 404 when fetched: withdrawn
            ['2025/cve-2025-0001.json', '2025-02-15T10:00:00+00:00'],
          ]),
        },
      ],
      '/vex/deletions.csv': [
        {
          etag: '"d1"',
          body: csv([
            ['2023/cve-2023-0001.json', '2025-01-01T00:00:00+00:00'],
            ['2024/cve-2024-2222.json', '2025-02-17T00:00:00+00:00'],
          ]),
        },
        { etag: '"d1"', body: '' },
        {
          etag: '"d2"',
          body: csv([
            ['2024/cve-2024-2222.json', '2025-02-17T00:00:00+00:00'],
            ['2025/cve-2025-0001.json', '2025-02-19T00:00:00+00:00'],
          ]),
        },
      ],
    });
    const baseUrl = `${server.url}/vex/`;

    const first = await redhatFeed.fetch({ baseUrl, workDir });
    expect(first).toMatchObject({
      status: 'updated',
      mode: 'full',
      checkpoint: {
        archive: 'csaf_advisories_2025-02-15.tar.zst',
        since: '2025-02-17T00:00:00.000Z',
        changesEtag: '"c1"',
        deletionsEtag: '"d1"',
      },
    });
    expect(await summary(first)).toEqual([
      ['CVE-2024-10041'],
      ['-CVE-2024-2222'],
      ['malformed', 'CVE-2025-0001', 'malformed'],
    ]);
    if (first.status !== 'updated') throw new Error('unreachable');

    expect(await redhatFeed.fetch({ baseUrl, workDir, checkpoint: first.checkpoint })).toEqual({
      status: 'unchanged',
    });
    expect(server.requests.slice(-2).map((q) => [q.path, q.headers['if-none-match']])).toEqual([
      ['/vex/changes.csv', '"c1"'],
      ['/vex/deletions.csv', '"d1"'],
    ]);

    const third = await redhatFeed.fetch({ baseUrl, workDir, checkpoint: first.checkpoint });
    expect(third).toMatchObject({
      status: 'updated',
      mode: 'delta',
      checkpoint: { since: '2025-02-19T00:00:00.000Z', changesEtag: '"c2"', deletionsEtag: '"d2"' },
    });
    // deletions first (the 404 joins them), then the changed document
    expect(await summary(third)).toEqual([['-CVE-2025-0001', '-CVE-2024-3333'], ['CVE-2024-10041']]);
    expect(server.requests.filter((q) => q.path.endsWith('.tar.zst'))).toHaveLength(1);
  });

  it('falls back to the archive when the delta is larger than maxDeltaDocuments', async () => {
    const r = await routes();
    server = await startReplayServer({
      '/vex/archive_latest.txt': r['/vex/archive_latest.txt'],
      '/vex/csaf_advisories_2025-02-15.tar.zst': r['/vex/csaf_advisories_2025-02-15.tar.zst'],
      '/vex/changes.csv': { body: csv([['2024/cve-2024-10041.json', '2025-02-18T00:00:00+00:00']]) },
      '/vex/deletions.csv': { body: '' },
      '/vex/2024/cve-2024-10041.json': r['/vex/2024/cve-2024-10041.json'],
    });
    const feed = createRedhatFeed({ maxDeltaDocuments: 0 });
    const result = await feed.fetch({
      baseUrl: `${server.url}/vex`,
      workDir,
      checkpoint: { since: '2025-01-01T00:00:00.000Z' },
    });
    expect(result).toMatchObject({ status: 'updated', mode: 'full' });
    expect(await summary(result)).toEqual([['CVE-2024-10041'], ['CVE-2024-10041']]);
  });

  it('retries a 503 with Retry-After and fails with a coded error on a broken archive_latest.txt', async () => {
    server = await startReplayServer({
      '/vex/archive_latest.txt': [
        { status: 503, headers: { 'retry-after': '0' } },
        { body: '../../etc/passwd' },
      ],
    });
    const error = await redhatFeed.fetch({ baseUrl: `${server.url}/vex/`, workDir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENG_FEED_FORMAT' });
    expect(server.requests.map((q) => q.path)).toEqual([
      '/vex/archive_latest.txt',
      '/vex/archive_latest.txt',
    ]);
  });
});
