/**
 * The HTTP driver without a ClickHouse server (none runs here): URL checks, an unreachable server, and a stand-in
 * HTTP endpoint that records what the driver sends and answers the way ClickHouse does (JSONEachRow bodies,
 * `X-ClickHouse-Exception-Code` errors). The SQL itself is exercised on chdb by the other tests.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpDriver, parseClickHouseUrl } from './http-driver.js';
import { createAnalyticsStore } from './index.js';

interface Seen {
  params: Record<string, string>;
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
/** What the stand-in answers next: a status, headers and a body. */
let reply: { status: number; headers?: Record<string, string>; body: string } = { status: 200, body: '' };

async function read(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return body;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void read(req).then((body) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ params: Object.fromEntries(url.searchParams), body });
      if (reply.status === 0) return; // never answer
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('parseClickHouseUrl', () => {
  it('accepts http and https URLs', () => {
    expect(
      ['http://clickhouse:8123', 'https://u:p@ch.example.com:8443/vigil'].map(
        (u) => parseClickHouseUrl(u).href,
      ),
    ).toEqual(['http://clickhouse:8123/', 'https://u:p@ch.example.com:8443/vigil']);
  });

  it.each([
    ['not a URL', 'clickhouse:8123x y'],
    ['relative', '/vigil'],
    ['the native protocol', 'tcp://clickhouse:9000'],
    ['another scheme with a password', 'ftp://user:s3cret@clickhouse'],
  ])('CP_INVALID_ARGUMENT for %s, never echoing a password', async (_name, url) => {
    const err = await createAnalyticsStore({ url }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CP_INVALID_ARGUMENT' });
    expect((err as Error).message).not.toContain('s3cret');
  });
});

it('an unreachable server is CP_ANALYTICS_UNAVAILABLE on every call', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
  const store = await createAnalyticsStore({ url: `http://127.0.0.1:${port}` });
  try {
    const calls = await Promise.all([
      store.migrate().catch((e: unknown) => e),
      store.summary('org').catch((e: unknown) => e),
      store.appendFindings('org', 'scan', 1, []).then(() => 'no rows: nothing sent'),
      store
        .appendInventory('org', 'scan', 1, [
          { name: 'a', version: '1', ecosystem: 'deb', foundBy: 'os/dpkg' },
        ])
        .catch((e: unknown) => e),
    ]);
    expect(calls.map((c) => (typeof c === 'string' ? c : (c as { code: string }).code))).toEqual([
      'CP_ANALYTICS_UNAVAILABLE',
      'CP_ANALYTICS_UNAVAILABLE',
      'no rows: nothing sent',
      'CP_ANALYTICS_UNAVAILABLE',
    ]);
  } finally {
    await store.close();
  }
});

describe('against a stand-in endpoint', () => {
  it('binds values as param_* parts next to the SQL, never in it', async () => {
    seen.length = 0;
    reply = {
      status: 200,
      headers: { 'X-ClickHouse-Format': 'JSONEachRow' },
      body: '{"images":"2","critical":"1","high":"0","medium":"3","low":"0","unknown":"0","fixable":"4"}\n',
    };
    const store = await createAnalyticsStore({ url: `${base}/vigil` });
    try {
      const hostile = "o'; DROP TABLE findings; --";
      expect(await store.summary(hostile, { imageIds: ['a', "b'c"] })).toEqual({
        images: 2,
        counts: { critical: 1, high: 0, medium: 3, low: 0, unknown: 0, total: 4 },
        fixable: 4,
      });
      expect(seen).toHaveLength(1);
      expect({
        database: seen[0]!.params.database,
        org: seen[0]!.params.param_org,
        imageIds: seen[0]!.params.param_imageIds,
        sqlHasValue: seen[0]!.body.includes('DROP'),
        sqlHasPlaceholder: seen[0]!.body.includes('{org:String}'),
      }).toEqual({
        database: 'vigil',
        org: "o\\'; DROP TABLE findings; --",
        imageIds: "['a','b\\'c']",
        sqlHasValue: false,
        sqlHasPlaceholder: true,
      });
    } finally {
      await store.close();
    }
  });

  it('inserts rows as JSONEachRow with async inserts waited for', async () => {
    seen.length = 0;
    reply = { status: 200, body: '' };
    const driver = await createHttpDriver({ url: base });
    try {
      await driver.insert('findings', [
        { org_id: 'o', id: 'CVE-1' },
        { org_id: 'o', id: "it's" },
      ]);
      expect(
        seen.map((s) => [s.params.query, s.params.async_insert, s.params.wait_for_async_insert, s.body]),
      ).toEqual([
        [
          'INSERT INTO findings FORMAT JSONEachRow',
          '1',
          '1',
          '{"org_id":"o","id":"CVE-1"}\n{"org_id":"o","id":"it\'s"}\n',
        ],
      ]);
    } finally {
      await driver.close();
    }
  });

  it.each([
    ['60', 'UNKNOWN_TABLE', 'CP_ANALYTICS_ERROR'],
    ['62', 'SYNTAX_ERROR', 'CP_ANALYTICS_ERROR'],
    ['241', 'MEMORY_LIMIT_EXCEEDED', 'CP_ANALYTICS_UNAVAILABLE'],
    ['159', 'TIMEOUT_EXCEEDED', 'CP_ANALYTICS_UNAVAILABLE'],
    ['516', 'AUTHENTICATION_FAILED', 'CP_ANALYTICS_UNAVAILABLE'],
  ])('ClickHouse error %s (%s) is %s', async (code, name, expected) => {
    reply = {
      status: 500,
      headers: { 'X-ClickHouse-Exception-Code': code },
      body: `Code: ${code}. DB::Exception: something about it. (${name}) (version 25.3.1.1)\n`,
    };
    const driver = await createHttpDriver({ url: base });
    try {
      const err = await driver.query('SELECT 1').catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'ControlPlaneError', code: expected });
    } finally {
      await driver.close();
    }
  });

  it('a server that does not answer in time is CP_ANALYTICS_UNAVAILABLE', async () => {
    reply = { status: 0, body: '' };
    const driver = await createHttpDriver({ url: base, requestTimeoutMillis: 300 });
    try {
      expect(await driver.query('SELECT 1').catch((e: unknown) => e)).toMatchObject({
        code: 'CP_ANALYTICS_UNAVAILABLE',
      });
    } finally {
      await driver.close();
    }
  });

  it('a closed driver refuses calls', async () => {
    const driver = await createHttpDriver({ url: base });
    await driver.close();
    await driver.close();
    await expect(driver.exec('SELECT 1')).rejects.toMatchObject({
      code: 'CP_ANALYTICS_UNAVAILABLE',
      message: 'the analytics store (http) is closed',
    });
  });
});
