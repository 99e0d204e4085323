/**
 * The GitHub advisory API fetch against a loopback server speaking the REST API's pagination
 * (Link headers, `after` cursors), its `updated` filter, and its rate-limit answers.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FetchResult } from '../types.js';
import { githubRateLimitWaitMs, nextLink } from './fetch-ghsa.js';
import { ghsaFeed } from './index.js';
import { collect } from './testdata/support.js';

const REST = JSON.parse(
  readFileSync(fileURLToPath(new URL('./testdata/ghsa-rest-advisory.json', import.meta.url)), 'utf8'),
);
const advisory = (n: string, updated: string, extra: Record<string, unknown> = {}) => ({
  ...REST,
  ghsa_id: `GHSA-9999-aaaa-000${n}`,
  updated_at: updated,
  ...extra,
});

/** Page size of this server (GitHub may answer fewer than per_page; the client follows Link). */
const PAGE = 2;
let advisories: Record<string, unknown>[] = [];
const requests: { path: string; query: Record<string, string>; auth?: string; accept?: string }[] = [];
/** scripted answers, consumed one per request before the normal handling */
let script: ((res: ServerResponse) => void)[] = [];
let linkOrigin: string | undefined;

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url!, base);
  requests.push({
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    auth: req.headers.authorization,
    accept: req.headers.accept,
  });
  const scripted = script.shift();
  if (scripted) return scripted(res);
  if (url.pathname !== '/advisories') return res.writeHead(404).end('{"message":"Not Found"}');
  let list = [...advisories].sort(
    (a, b) => Date.parse(a.updated_at as string) - Date.parse(b.updated_at as string),
  );
  const updated = url.searchParams.get('updated');
  if (updated?.startsWith('>='))
    list = list.filter((a) => Date.parse(a.updated_at as string) >= Date.parse(updated.slice(2)));
  const after = Number(url.searchParams.get('after') ?? 0);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (after + PAGE < list.length) {
    const next = new URL(url.toString().replace(base, linkOrigin ?? base));
    next.searchParams.set('after', String(after + PAGE));
    headers.link = `<${next}>; rel="next", <${base}/advisories?after=0>; rel="prev"`;
  }
  res.writeHead(200, headers).end(JSON.stringify(list.slice(after, after + PAGE)));
});

let base = '';
let workDir = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  workDir = await mkdtemp(join(tmpdir(), 'vigil-ghsa-fetch-'));
});
afterAll(async () => {
  server.close();
  await rm(workDir, { recursive: true, force: true });
});
beforeEach(() => {
  requests.length = 0;
  script = [];
  linkOrigin = undefined;
  advisories = [
    advisory('1', '2099-01-01T00:00:00Z'),
    advisory('2', '2099-01-02T00:00:00Z'),
    advisory('3', '2099-01-03T00:00:00Z', { withdrawn_at: '2099-01-03T00:00:00Z' }),
    advisory('4', '2099-01-04T00:00:00Z'),
    advisory('5', '2099-01-05T00:00:00Z'),
  ];
});

const ctx = (extra: Partial<Parameters<typeof ghsaFeed.fetch>[0]> = {}) => ({
  baseUrl: base,
  workDir,
  credentials: { githubToken: 'ghp_test' },
  ...extra,
});

async function records(result: FetchResult): Promise<string[]> {
  if (result.status !== 'updated') return [];
  const out: string[] = [];
  for (const body of result.bodies)
    for (const r of await collect(ghsaFeed.parse(body)))
      out.push(r.type === 'vulnerability' ? r.vulnerability.id : `${r.type} ${'id' in r ? r.id : ''}`);
  return out;
}

describe('ghsa feed fetch from a loopback GitHub API', () => {
  it('without a token: unchanged, and no request at all', async () => {
    expect(await ghsaFeed.fetch({ baseUrl: base, workDir })).toEqual({ status: 'unchanged' });
    expect(requests).toEqual([]);
  });

  it('first run follows the Link pages (full), then asks only for what was updated since (delta / unchanged)', async () => {
    const first = await ghsaFeed.fetch(ctx());
    expect(requests.map((r) => r.query)).toEqual([
      { type: 'reviewed', per_page: '100', sort: 'updated', direction: 'asc' },
      { type: 'reviewed', per_page: '100', sort: 'updated', direction: 'asc', after: '2' },
      { type: 'reviewed', per_page: '100', sort: 'updated', direction: 'asc', after: '4' },
    ]);
    expect(
      requests.every(
        (r) =>
          r.auth === 'Bearer ghp_test' &&
          r.accept === 'application/vnd.github+json' &&
          r.path === '/advisories',
      ),
    ).toBe(true);
    expect(first.status === 'updated' && [first.mode, first.checkpoint, first.bodies.length]).toEqual([
      'full',
      { updatedSince: '2099-01-05T00:00:00Z' },
      3,
    ]);
    expect(await records(first)).toEqual([
      'GHSA-9999-aaaa-0001',
      'GHSA-9999-aaaa-0002',
      'withdrawn GHSA-9999-aaaa-0003',
      'GHSA-9999-aaaa-0004',
      'GHSA-9999-aaaa-0005',
    ]);

    requests.length = 0;
    const checkpoint = first.status === 'updated' ? first.checkpoint : {};
    expect(await ghsaFeed.fetch(ctx({ checkpoint }))).toEqual({ status: 'unchanged' });
    expect(requests.map((r) => r.query.updated)).toEqual(['>=2099-01-05T00:00:00Z']);

    advisories.push(
      advisory('6', '2099-02-01T00:00:00Z'),
      advisory('1', '2099-02-02T00:00:00Z', { withdrawn_at: '2099-02-02T00:00:00Z' }),
    );
    const delta = await ghsaFeed.fetch(ctx({ checkpoint }));
    expect(delta.status === 'updated' && [delta.mode, delta.checkpoint]).toEqual([
      'delta',
      { updatedSince: '2099-02-02T00:00:00Z' },
    ]);
    expect(await records(delta)).toEqual([
      'GHSA-9999-aaaa-0005',
      'GHSA-9999-aaaa-0006',
      'withdrawn GHSA-9999-aaaa-0001',
    ]);
  });

  it('waits out 403 x-ratelimit-reset, 403 Retry-After (secondary limit) and 429 Retry-After', async () => {
    const past = String(Math.floor(Date.now() / 1000) - 5);
    script = [
      (res) =>
        res
          .writeHead(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': past })
          .end('{"message":"API rate limit exceeded"}'),
      (res) =>
        res
          .writeHead(403, { 'retry-after': '0' })
          .end('{"message":"You have exceeded a secondary rate limit"}'),
      (res) => res.writeHead(429, { 'retry-after': '0' }).end(),
    ];
    const result = await ghsaFeed.fetch(ctx());
    expect(await records(result)).toHaveLength(5);
    expect(requests).toHaveLength(6);
  });

  it('a rate limit that resets in an hour fails at once with ENG_FEED_RATE_LIMITED', async () => {
    const later = String(Math.floor(Date.now() / 1000) + 3600);
    script = [
      (res) => res.writeHead(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': later }).end(),
    ];
    await expect(ghsaFeed.fetch(ctx())).rejects.toMatchObject({ code: 'ENG_FEED_RATE_LIMITED' });
    expect(requests).toHaveLength(1);
  });

  it.each([
    [
      'a plain 403 (token without access)',
      (res: ServerResponse) => res.writeHead(403).end('{"message":"Forbidden"}'),
      'ENG_FEED_HTTP',
    ],
    [
      'an error object instead of a list',
      (res: ServerResponse) => res.writeHead(200).end('{"message":"Validation Failed"}'),
      'ENG_FEED_FORMAT',
    ],
    ['a page that is not JSON', (res: ServerResponse) => res.writeHead(200).end('<html>'), 'ENG_FEED_FORMAT'],
  ])('%s fails the run', async (_name, answer, code) => {
    script = [answer];
    await expect(ghsaFeed.fetch(ctx())).rejects.toMatchObject({ code });
  });

  it('does not follow a next link to another origin (the token stays home)', async () => {
    linkOrigin = 'http://localhost:9';
    await expect(ghsaFeed.fetch(ctx())).rejects.toMatchObject({
      code: 'ENG_FEED_FORMAT',
      message: expect.stringMatching(/another origin/),
    });
    expect(requests).toHaveLength(1);
  });
});

describe('GitHub API helpers', () => {
  it.each([
    [
      '<https://api.github.com/advisories?after=Y3Vy>; rel="next", <https://api.github.com/advisories?before=x>; rel="prev"',
      'https://api.github.com/advisories?after=Y3Vy',
    ],
    ['<https://a/x?p=1>; rel="prev", <https://a/x?p=3>; rel=next', 'https://a/x?p=3'],
    ['<https://a/x?p=1>; rel="prev"', undefined],
    [undefined, undefined],
  ])('nextLink(%j)', (header, want) => {
    expect(nextLink(header)).toBe(want);
  });

  it.each([
    [403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1010' }, 10_000],
    [403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '990' }, 0],
    [403, { 'retry-after': '7' }, 7000],
    [429, { 'retry-after': '2' }, 2000],
    [403, { 'x-ratelimit-remaining': '12', 'x-ratelimit-reset': '1010' }, undefined],
    [500, { 'retry-after': '2' }, undefined],
  ])('githubRateLimitWaitMs(%s, %j)', (status, headers, want) => {
    expect(githubRateLimitWaitMs(status, headers, 1_000_000)).toBe(want);
  });
});
