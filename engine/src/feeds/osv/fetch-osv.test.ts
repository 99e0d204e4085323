/**
 * The OSV export fetch against a loopback bucket that replays real records as per-ecosystem
 * all.zip files, with ETag / Last-Modified and 304 answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hasRealdata } from '../../../../test/support/realdata.js';
import type { FeedRecord, FetchResult } from '../types.js';
import { almaFeed, osvFeed, rockyFeed, ubuntuFeed } from './index.js';
import { collect, feed } from './testdata/support.js';

/** What the bucket serves: folder → files of its all.zip; `version` bumps the ETag. */
const bucket = new Map<string, { files: Record<string, string>; version: number }>();
const requests: { url: string; ifNoneMatch?: string; ifModifiedSince?: string }[] = [];
let failNext: { path: string; status: number; headers: Record<string, string> } | undefined;

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  requests.push({
    url: req.url!,
    ifNoneMatch: req.headers['if-none-match'],
    ifModifiedSince: req.headers['if-modified-since'],
  });
  const m = /^\/(.+)\/all\.zip$/.exec(req.url!);
  const folder = m && decodeURIComponent(m[1]!);
  if (failNext && failNext.path === req.url) {
    const { status, headers } = failNext;
    failNext = undefined;
    return res.writeHead(status, headers).end('try later');
  }
  const entry = folder ? bucket.get(folder) : undefined;
  if (!entry) return res.writeHead(404).end('NoSuchKey');
  const etag = `"${folder}-v${entry.version}"`;
  if (req.headers['if-none-match'] === etag) return res.writeHead(304).end();
  const zippable: Zippable = {};
  for (const [name, rel] of Object.entries(entry.files)) zippable[name] = feed(rel).bytes;
  res.writeHead(200, {
    etag,
    'last-modified': `Mon, 0${entry.version} Jun 2026 00:00:00 GMT`,
    'content-type': 'application/zip',
  });
  res.end(Buffer.from(zipSync(zippable)));
});

let base = '';
let workDir = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  workDir = await mkdtemp(join(tmpdir(), 'vigil-osv-fetch-'));
});
afterAll(async () => {
  server.close();
  await rm(workDir, { recursive: true, force: true });
});
beforeEach(() => {
  requests.length = 0;
});

const LANGUAGE_FILES: Record<string, Record<string, string>> = {
  npm: { 'GHSA-c2qf-rxjj-qqgw.json': 'ghsa/advisorydb-GHSA-c2qf-rxjj-qqgw.json' },
  PyPI: {
    'PYSEC-2023-120.json': 'osv/trivydb-PYSEC-2023-120.json',
    'GHSA-9wx4-h78v-vm56.json': 'ghsa/advisorydb-GHSA-9wx4-h78v-vm56.json',
  },
  Go: { 'GO-2024-2963.json': 'osv/osvschema-GO-2024-2963.json' },
  Maven: { 'GHSA-xx65-cc7g-9pfp.json': 'ghsa/trivydb-GHSA-xx65-cc7g-9pfp.json' },
  RubyGems: {},
  'crates.io': { 'GHSA-mp6f-p9gp-vpj9.json': 'ghsa/trivydb-GHSA-mp6f-p9gp-vpj9.json' },
  Packagist: { 'GHSA-wjx8-cgrm-hh8p.json': 'ghsa/trivydb-GHSA-wjx8-cgrm-hh8p.json' },
  NuGet: { 'GHSA-266m-wp2v-x7mq.json': 'ghsa/trivydb-GHSA-266m-wp2v-x7mq.json' },
};

async function ids(result: FetchResult, parse = osvFeed.parse): Promise<string[]> {
  if (result.status !== 'updated') return [];
  const out: FeedRecord[] = [];
  for (const body of result.bodies) out.push(...(await collect(parse(body))));
  return out.map((r) => (r.type === 'vulnerability' ? r.vulnerability.id : r.type));
}

describe.skipIf(!hasRealdata)('osv feed fetch from a loopback OSV bucket', () => {
  beforeAll(() => {
    for (const [folder, files] of Object.entries(LANGUAGE_FILES)) bucket.set(folder, { files, version: 1 });
  });

  it('first run downloads every ecosystem zip (full), then 304s make it unchanged', async () => {
    const progress: [number, number | undefined][] = [];
    const first = await osvFeed.fetch({
      baseUrl: base,
      workDir,
      onProgress: (d, t) => progress.push([d, t]),
    });
    expect(first.status === 'updated' && [first.mode, first.bodies.map((b) => b.name)]).toEqual([
      'full',
      ['npm', 'PyPI', 'Go', 'Maven', 'RubyGems', 'crates.io', 'Packagist', 'NuGet'].map(
        (e) => `${base}/${e}/all.zip`,
      ),
    ]);
    expect(first.status === 'updated' && first.checkpoint).toEqual(
      Object.fromEntries(
        Object.keys(LANGUAGE_FILES).flatMap((e) => [
          [`${e}.etag`, `"${e}-v1"`],
          [`${e}.lastModified`, 'Mon, 01 Jun 2026 00:00:00 GMT'],
        ]),
      ),
    );
    expect(await ids(first)).toEqual([
      'GHSA-c2qf-rxjj-qqgw',
      'PYSEC-2023-120',
      'GHSA-9wx4-h78v-vm56',
      'GO-2024-2963',
      'GHSA-xx65-cc7g-9pfp',
      'GHSA-mp6f-p9gp-vpj9',
      'GHSA-wjx8-cgrm-hh8p',
      'GHSA-266m-wp2v-x7mq',
    ]);
    expect(requests.map((r) => [r.url, r.ifNoneMatch])).toEqual(
      Object.keys(LANGUAGE_FILES).map((e) => [`/${encodeURIComponent(e)}/all.zip`, undefined]),
    );
    expect(progress).toEqual([[0, 8], ...Array.from({ length: 8 }, (_, i) => [i + 1, 8])]);

    requests.length = 0;
    const again = await osvFeed.fetch({
      baseUrl: base,
      workDir,
      checkpoint: first.status === 'updated' ? first.checkpoint : {},
    });
    expect(again).toEqual({ status: 'unchanged' });
    expect(requests.map((r) => [r.ifNoneMatch, r.ifModifiedSince])).toEqual(
      Object.keys(LANGUAGE_FILES).map((e) => [`"${e}-v1"`, 'Mon, 01 Jun 2026 00:00:00 GMT']),
    );
  });

  it('one changed zip: full again, the unchanged ecosystems served from the archive; a lost archive file is fetched unconditionally', async () => {
    const first = await osvFeed.fetch({ baseUrl: base, workDir });
    const checkpoint = first.status === 'updated' ? first.checkpoint : {};
    bucket.set('npm', {
      files: { ...LANGUAGE_FILES.npm, 'GHSA-75v8-2h7p-7m2m.json': 'ghsa/trivydb-GHSA-75v8-2h7p-7m2m.json' },
      version: 2,
    });
    await rm(join(workDir, 'osv', 'Go-all.zip'));
    requests.length = 0;
    const next = await osvFeed.fetch({ baseUrl: base, workDir, checkpoint });
    expect(
      next.status === 'updated' && [
        next.mode,
        next.bodies.length,
        next.checkpoint['npm.etag'],
        next.checkpoint['Go.etag'],
      ],
    ).toEqual(['full', 8, '"npm-v2"', '"Go-v1"']);
    expect(requests.map((r) => [r.url, r.ifNoneMatch ?? null]).slice(0, 3)).toEqual([
      ['/npm/all.zip', '"npm-v1"'],
      ['/PyPI/all.zip', '"PyPI-v1"'],
      ['/Go/all.zip', null],
    ]);
    expect((await ids(next)).slice(0, 2)).toEqual(['GHSA-c2qf-rxjj-qqgw', 'GHSA-75v8-2h7p-7m2m']);
  });

  it('retries a 503 with Retry-After; a missing export fails with ENG_FEED_HTTP', async () => {
    failNext = { path: '/Go/all.zip', status: 503, headers: { 'retry-after': '0' } };
    const result = await osvFeed.fetch({ baseUrl: base, workDir: join(workDir, 'retry') });
    expect(result.status).toBe('updated');
    expect(requests.filter((r) => r.url === '/Go/all.zip')).toHaveLength(2);
    bucket.delete('NuGet');
    await expect(osvFeed.fetch({ baseUrl: base, workDir: join(workDir, 'missing') })).rejects.toMatchObject({
      code: 'ENG_FEED_HTTP',
    });
    bucket.set('NuGet', { files: LANGUAGE_FILES.NuGet!, version: 1 });
  });
});

describe.skipIf(!hasRealdata)('distro feeds fetch their own exports', () => {
  beforeAll(() => {
    bucket.set('Ubuntu', {
      files: {
        'UBUNTU-CVE-2021-3782.json': 'ubuntu/vunnel-UBUNTU-CVE-2021-3782.json',
        'USN-5614-1.json': 'ubuntu/vunnel-USN-5614-1.json',
      },
      version: 1,
    });
    bucket.set('AlmaLinux', {
      files: { 'ALSA-2024:2433.json': 'osv/vunnel-ALSA-2024_2433.json' },
      version: 1,
    });
    bucket.set('Rocky Linux', {
      files: { 'RLSA-2024:3671.json': 'osv/vunnel-RLSA-2024_3671.json' },
      version: 1,
    });
  });

  it.each([
    [ubuntuFeed, '/Ubuntu/all.zip', ['UBUNTU-CVE-2021-3782', 'USN-5614-1']],
    [almaFeed, '/AlmaLinux/all.zip', ['ALSA-2024:2433']],
    [rockyFeed, '/Rocky%20Linux/all.zip', ['RLSA-2024:3671']],
  ])('%s', async (f, path, want) => {
    const result = await f.fetch({ baseUrl: `${base}/`, workDir });
    expect([
      requests.map((r) => r.url),
      result.status === 'updated' && result.mode,
      await ids(result, f.parse),
    ]).toEqual([[path], 'full', want]);
  });
});
