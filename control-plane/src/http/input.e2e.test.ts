/**
 * Hostile input on every route: bad UUIDs, page sizes and cursors, wrong types, unknown fields, bad JSON,
 * wrong media types and oversized bodies each get a 4xx with a CP_ code naming the problem — never a 500 —
 * plus a byte-level fuzz of every JSON body. Over the real service layer, as an admin token (which may call
 * everything, so refusals come from the input alone).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutate, prng } from '../../../test/support/fuzz.js';
import { call, startApi, type ApiHarness } from './testdata/api-harness.js';
import { report, ROUTE_CASES } from './testdata/route-cases.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi({ options: { reportBodyLimit: 2 * 1024 * 1024 } });
});
afterAll(async () => {
  await h?.close();
});

interface Hostile {
  name: string;
  method: string;
  url: string;
  /** a value (sent as JSON) or a raw string body */
  body?: unknown;
  raw?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  /** `status code` expected */
  expect: string;
}

const BAD_IDS = [
  'nope',
  '1',
  "' OR 1=1 --",
  '00000000-0000-0000-0000-00000000000g',
  'a'.repeat(90),
  '%00',
  '..%2f..%2fetc',
];
const v1 = (path: string) => `/api/v1${path}`;
const otherSortCursor = Buffer.from(JSON.stringify(['name', 'registry.test/x', 'sha256:00'])).toString(
  'base64url',
);

function hostileCases(): Hostile[] {
  const id = h.a.imageId;
  const cases: Hostile[] = [];
  // every route with an id in its path, with each bad id
  for (const c of ROUTE_CASES.filter(
    (r) => r.route.includes('{id}') && !r.route.includes('vulnerabilities'),
  )) {
    const [method, path] = c.route.split(' ') as [string, string];
    for (const bad of BAD_IDS) {
      cases.push({
        name: `${c.route} id=${bad}`,
        method,
        url: path.replace('{id}', bad),
        expect: '400 CP_INVALID_ARGUMENT',
      });
    }
    cases.push({
      name: `${c.route} unknown id`,
      method,
      url: path.replace('{id}', '6f1c2a3b-0000-4000-8000-000000000000'),
      ...(method === 'PATCH' ? { body: { role: 'viewer' } } : {}),
      expect: '404 CP_NOT_FOUND',
    });
  }
  const query = (name: string, url: string, expected = '400 CP_INVALID_ARGUMENT') =>
    cases.push({ name, method: 'GET', url: v1(url), expect: expected });
  for (const list of [
    '/images?',
    `/images/${id}/findings?`,
    `/vulnerabilities/${h.a.vulnerabilityId}/images?`,
  ]) {
    for (const limit of ['0', '-1', '1001', '1000000000', 'abc', '1.5', '1&limit=2'])
      query(`${list} limit=${limit}`, `${list}limit=${limit}`);
    query(`${list} cursor too long`, `${list}cursor=${'A'.repeat(3000)}`);
    query(`${list} empty cursor`, `${list}cursor=`);
    query(`${list} garbage cursor`, `${list}cursor=garbage`, '400 CP_CURSOR_INVALID');
  }
  query(
    'images cursor of another sort',
    `/images?sort=severity&cursor=${otherSortCursor}`,
    '400 CP_CURSOR_INVALID',
  );
  for (const q of [
    'sort=bogus',
    'order=up',
    'minSeverity=BAD',
    'fixable=maybe',
    'repositoryId=nope',
    'text=',
    `text=${'x'.repeat(500)}`,
  ]) {
    query(`images ${q.slice(0, 30)}`, `/images?${q}`);
    query(
      `summary ${q.slice(0, 30)}`,
      `/summary?${q}`,
      q.startsWith('sort') || q.startsWith('order') ? '200 -' : '400 CP_INVALID_ARGUMENT',
    );
  }
  for (const bad of ['%20', 'x'.repeat(129), 'x'.repeat(5000), 'CVE-2024-1234%00', '%E0%A4%A']) {
    query(`vulnerability id ${bad.slice(0, 20)} (${bad.length})`, `/vulnerabilities/${bad}/images`);
  }
  query('vulnerability id with a slash', '/vulnerabilities/a/b/images', '404 CP_NOT_FOUND');

  const post = (
    name: string,
    url: string,
    body: unknown,
    expected = '400 CP_INVALID_ARGUMENT',
    method = 'POST',
  ) => cases.push({ name, method, url: v1(url), body, expect: expected });
  const raw = (
    name: string,
    url: string,
    raw: string | Buffer,
    contentType: string | undefined,
    expected: string,
  ) =>
    cases.push({
      name,
      method: 'POST',
      url: v1(url),
      raw,
      ...(contentType ? { contentType } : {}),
      expect: expected,
    });
  for (const url of ['/scans', '/scans/bulk', '/reports', '/users', '/tokens', '/auth/login']) {
    raw(`${url} bad json`, url, '{"image": ', 'application/json', '400 CP_INVALID_ARGUMENT');
    raw(`${url} truncated json`, url, '[1,', 'application/json', '400 CP_INVALID_ARGUMENT');
    raw(`${url} empty json`, url, '', 'application/json', '400 CP_INVALID_ARGUMENT');
    raw(
      `${url} proto pollution`,
      url,
      '{"__proto__": {"admin": true}}',
      'application/json',
      '400 CP_INVALID_ARGUMENT',
    );
    raw(`${url} text/plain`, url, 'image=alpine', 'text/plain', '415 CP_UNSUPPORTED_MEDIA_TYPE');
    raw(`${url} xml`, url, '<scan/>', 'application/xml', '415 CP_UNSUPPORTED_MEDIA_TYPE');
    raw(`${url} form`, url, 'a=b', 'application/x-www-form-urlencoded', '415 CP_UNSUPPORTED_MEDIA_TYPE');
    for (const body of [null, [], 42]) post(`${url} body ${JSON.stringify(body)}`, url, body);
    // a string payload goes out as text/plain
    post(`${url} body string`, url, 'image=alpine', '415 CP_UNSUPPORTED_MEDIA_TYPE');
  }
  const big = Buffer.alloc(1024 * 1024 + 10, 0x20);
  big.write('{"image":"', 0);
  raw('/scans over 1 MiB', '/scans', big, 'application/json', '413 CP_PAYLOAD_TOO_LARGE');
  const bigReport = Buffer.alloc(2 * 1024 * 1024 + 10, 0x20);
  bigReport.write('{"schemaVersion":1', 0);
  raw('/reports over its limit', '/reports', bigReport, 'application/json', '413 CP_PAYLOAD_TOO_LARGE');

  for (const body of [
    {},
    { image: 123 },
    { image: '' },
    { image: 'x'.repeat(513) },
    { imageId: 'nope' },
    { image: 'alpine', imageId: id },
    { imageId: id, force: 'yes' },
    { imageId: id, priority: 'urgent' },
    { imageId: id, forse: true },
  ]) {
    post(`scans ${JSON.stringify(body).slice(0, 40)}`, '/scans', body);
  }
  post('scans unresolvable reference', '/scans', { image: 'not a reference!' }, '422 CP_IMAGE_UNRESOLVABLE');
  for (const body of [
    {},
    { imageIds: [] },
    { imageIds: 'x' },
    { imageIds: [1] },
    { imageIds: ['nope'] },
    { imageIds: [id], filter: {} },
    { filter: { minSeverity: 'BAD' } },
    { filter: { evil: 1 } },
    { filter: { text: 7 } },
    { imageIds: Array.from({ length: 10_001 }, () => id) },
  ]) {
    post(`bulk ${JSON.stringify(body).slice(0, 40)}`, '/scans/bulk', body);
  }
  post('reports {}', '/reports', {});
  post(
    'reports schemaVersion 2',
    '/reports',
    { ...report('registry.test/x'), schemaVersion: 2 },
    '400 CP_REPORT_INVALID',
  );
  post(
    'reports extra field',
    '/reports',
    { ...report('registry.test/x'), extra: 1 },
    '400 CP_REPORT_INVALID',
  );
  post(
    'reports summary lies',
    '/reports',
    {
      ...report('registry.test/x'),
      summary: { critical: 1, high: 0, medium: 0, low: 0, unknown: 0, total: 1 },
    },
    '400 CP_REPORT_INVALID',
  );
  for (const body of [
    { email: 'not-an-email', role: 'viewer' },
    { email: 'x@y.test', role: 'god' },
    { email: 'x@y.test', role: 'viewer', password: 'short' },
    { email: 'x@y.test' },
    { email: 'x@y.test', role: 'viewer', orgId: h.b.org.id },
  ]) {
    post(`users ${JSON.stringify(body).slice(0, 40)}`, '/users', body);
  }
  post(
    'users duplicate email',
    '/users',
    { email: 'admin@tenant-a.test', role: 'viewer' },
    '409 CP_CONFLICT',
  );
  for (const body of [{}, { role: 'admin', extra: 1 }, { password: 'short' }, { role: 'root' }]) {
    post(
      `patch user ${JSON.stringify(body)}`,
      `/users/${h.a.users.viewer.id}`,
      body,
      '400 CP_INVALID_ARGUMENT',
      'PATCH',
    );
  }
  post(
    'demote the last admin',
    `/users/${h.a.users.admin.id}`,
    { role: 'viewer' },
    '409 CP_LAST_ADMIN',
    'PATCH',
  );
  for (const body of [
    { name: 'x', scopes: [] },
    { name: 'x', scopes: ['root'] },
    { name: 'x', scopes: ['read', 'read'] },
    { name: '', scopes: ['read'] },
    { name: 'x', scopes: ['read'], expiresAt: 'tomorrow' },
    { name: 'x', scopes: ['read'], expiresAt: '2000-01-01T00:00:00Z' },
    { name: 'x', scopes: 'read' },
  ]) {
    post(`tokens ${JSON.stringify(body).slice(0, 50)}`, '/tokens', body);
  }
  for (const body of [
    { email: 1, password: 'x' },
    {},
    { email: 'a@b.test', password: 'x'.repeat(2000) },
    { email: 'a@b.test' },
  ]) {
    post(`login ${JSON.stringify(body).slice(0, 40)}`, '/auth/login', body);
  }
  for (const bad of ['nope', '..%2f..%2fetc', '%00', '1.0'])
    query(`snapshot version ${bad.slice(0, 20)}`, `/db/snapshots/${bad}`, '404 CP_NOT_FOUND');
  query('snapshot version too long', `/db/snapshots/${'x'.repeat(129)}`);
  cases.push({
    name: 'snapshot range past the end',
    method: 'GET',
    url: v1('/db/snapshot'),
    headers: { range: 'bytes=999999999-' },
    expect: '416 CP_INVALID_ARGUMENT',
  });
  const upload = (name: string, raw: Buffer | string, contentType: string, expected: string) =>
    cases.push({ name, method: 'PUT', url: v1('/db/snapshot'), raw, contentType, expect: expected });
  upload(
    'snapshot upload not a database',
    Buffer.from('not a database'),
    'application/vnd.sqlite3',
    '400 CP_INVALID_ARGUMENT',
  );
  upload('snapshot upload empty', Buffer.alloc(0), 'application/octet-stream', '400 CP_INVALID_ARGUMENT');
  upload('snapshot upload as json', '{"version":"x"}', 'application/json', '415 CP_UNSUPPORTED_MEDIA_TYPE');
  cases.push({ name: 'unknown route', method: 'GET', url: v1('/nothing-here'), expect: '404 CP_NOT_FOUND' });
  cases.push({ name: 'unknown method', method: 'PUT', url: v1('/images'), expect: '404 CP_NOT_FOUND' });
  cases.push({ name: 'outside the api', method: 'GET', url: '/etc/passwd', expect: '404 CP_NOT_FOUND' });
  return cases;
}

describe('hostile input', () => {
  it('answers every malformed request with its 4xx and a coded {code, message}', async () => {
    const outcomes: Record<string, string> = {};
    const expected: Record<string, string> = {};
    const malformedBodies: string[] = [];
    for (const c of hostileCases()) {
      const headers: Record<string, string> = { ...c.headers };
      if (c.contentType) headers['content-type'] = c.contentType;
      const res =
        c.raw !== undefined
          ? await h.app.inject({
              method: c.method as 'POST',
              url: c.url,
              headers: { authorization: `Bearer ${h.a.tokens.admin}`, ...headers },
              payload: c.raw,
            })
          : await call(
              h.app,
              { bearer: h.a.tokens.admin },
              { method: c.method, url: c.url, body: c.body, ...(c.headers ? { headers: c.headers } : {}) },
            );
      const body = res.statusCode < 400 ? null : res.json<{ code?: unknown; message?: unknown }>();
      if (
        body &&
        (typeof body.message !== 'string' || body.message === '' || Object.keys(body).length !== 2)
      ) {
        malformedBodies.push(`${c.name}: ${res.body}`);
      }
      outcomes[c.name] = `${res.statusCode} ${body ? String(body.code) : '-'}`;
      expected[c.name] = c.expect;
    }
    expect({ outcomes, malformedBodies }).toEqual({ outcomes: expected, malformedBodies: [] });
  });

  it('names the offending field in validation messages', async () => {
    const send = (url: string, body?: unknown, method = 'POST') =>
      call(h.app, { bearer: h.a.tokens.admin }, { method, url: v1(url), body }).then(
        (r) => r.json<{ message: string }>().message,
      );
    expect({
      type: await send('/scans', { imageId: h.a.imageId, force: 'yes' }),
      unknown: await send('/scans', { imageId: h.a.imageId, forse: true }),
      missing: await send('/users', { email: 'x@y.test' }),
      query: await send('/images?limit=5000', undefined, 'GET'),
      param: await send('/scans/nope', undefined, 'GET'),
    }).toEqual({
      type: 'body/force must be boolean',
      unknown: 'body must NOT have additional properties (forse)',
      missing: 'body/role is required',
      query: 'querystring/limit must be <= 1000',
      param: 'params/id must match format "uuid"',
    });
  });

  it('never answers a 5xx to mutated JSON bodies on any route', async () => {
    const rand = prng(0x0a11);
    const failures: string[] = [];
    for (const c of ROUTE_CASES) {
      const request = await c.request(h.a, h.fresh);
      if (request.body === undefined || Buffer.isBuffer(request.body)) continue;
      const seed = Buffer.from(JSON.stringify(request.body));
      for (let i = 0; i < 40; i++) {
        const payload = mutate(seed, rand);
        const res = await h.app.inject({
          method: request.method as 'POST',
          url: request.url,
          headers: { authorization: `Bearer ${h.a.tokens.admin}`, 'content-type': 'application/json' },
          payload,
        });
        const code = res.statusCode < 400 ? 'ok' : res.json<{ code?: string }>().code;
        if (res.statusCode >= 500 || code === undefined)
          failures.push(`${c.route} ${res.statusCode} ${payload.toString('base64')}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
