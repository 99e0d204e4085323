import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download } from './download.js';

let base = '';
let dir = '';
const hits = new Map<string, number>();
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const n = (hits.get(req.url!) ?? 0) + 1;
  hits.set(req.url!, n);
  switch (req.url) {
    case '/feed.json':
      if (req.headers['if-none-match'] === '"v1"') return res.writeHead(304).end();
      return res
        .writeHead(200, { etag: '"v1"', 'last-modified': 'Tue, 01 Sep 2026 00:00:00 GMT' })
        .end('{"ok":true}');
    case '/limited':
      if (n === 1) return res.writeHead(429, { 'retry-after': '0' }).end();
      return res.writeHead(200).end('after 429');
    case '/broken':
      return res.writeHead(500).end('boom');
    case '/moved':
      return res.writeHead(302, { location: '/feed.json' }).end();
    case '/big':
      return res.writeHead(200).end('x'.repeat(5000));
    default:
      return res.writeHead(404).end('no such feed');
  }
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'vigil-dl-'));
});
afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

const noSleep = () => Promise.resolve();

describe('download', () => {
  it('downloads, then answers not-modified for the same ETag', async () => {
    const first = await download({ url: `${base}/feed.json`, dest: join(dir, 'a.json') });
    expect(first).toEqual({
      status: 'ok',
      path: join(dir, 'a.json'),
      bytes: 11,
      etag: '"v1"',
      lastModified: 'Tue, 01 Sep 2026 00:00:00 GMT',
    });
    expect(await readFile(join(dir, 'a.json'), 'utf8')).toBe('{"ok":true}');
    expect(await download({ url: `${base}/feed.json`, dest: join(dir, 'b.json'), etag: '"v1"' })).toEqual({
      status: 'not-modified',
    });
  });

  it('retries a 429 honouring Retry-After, follows redirects', async () => {
    const retries: unknown[] = [];
    const r = await download({
      url: `${base}/limited`,
      dest: join(dir, 'c'),
      onRetry: (i) => retries.push(i),
      sleepMs: noSleep,
    });
    expect([r.status, retries]).toEqual(['ok', [{ attempt: 0, status: 429, delayMs: 0 }]]);
    const moved = await download({ url: `${base}/moved`, dest: join(dir, 'd') });
    expect(moved.status === 'ok' && moved.bytes).toBe(11);
  });

  it.each([
    ['/broken', { retries: 2 }, 'ENG_FEED_HTTP', /HTTP 500: boom/],
    ['/missing', {}, 'ENG_FEED_HTTP', /HTTP 404: no such feed/],
    ['/big', { maxBytes: 100 }, 'ENG_FEED_TOO_LARGE', /exceeds the 100-byte cap/],
  ])('%s fails with a coded error', async (path, extra, code, message) => {
    const err = await download({
      url: `${base}${path}`,
      dest: join(dir, 'e'),
      sleepMs: noSleep,
      ...extra,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('fails fast when unreachable and honours abort', async () => {
    const unreachable = await download({
      url: 'http://127.0.0.1:1/x',
      dest: join(dir, 'f'),
      retries: 0,
    }).catch((e: unknown) => e);
    expect(unreachable).toMatchObject({ code: 'ENG_FEED_UNREACHABLE' });
    const controller = new AbortController();
    controller.abort();
    const aborted = await download({
      url: `${base}/feed.json`,
      dest: join(dir, 'g'),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(aborted).toMatchObject({ code: 'ENG_ABORTED' });
  });
});
