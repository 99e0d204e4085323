/**
 * Every /api/v1 route, table-driven, over the real service layer (scratch Postgres, chdb, in-process queue):
 * tenant isolation (tenant b reads, changes and counts nothing of tenant a), roles and token scopes, the
 * scanning entitlement, credentials, and the OpenAPI document listing every route.
 */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role, TokenScope } from '../services/types.js';
import { installAuthHook } from './auth-hook.js';
import { call, startApi, type ApiHarness, type Caller, type Tenant } from './testdata/api-harness.js';
import { ADMITTED, CALLERS, refusalOf, ROUTE_CASES, type CallerName } from './testdata/route-cases.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  await h?.close();
});

async function callerOf(name: CallerName, t: Tenant): Promise<Caller> {
  const [kind, level] = name.split(':') as ['role' | 'scope', string];
  return kind === 'role'
    ? { session: await h.fresh.session(t, level as Role) }
    : { bearer: t.tokens[level as TokenScope] };
}

/** Every id of tenant `t`, and its own vulnerability id: none may appear in another tenant's answers. */
function identifiers(t: Tenant): string[] {
  return [
    t.org.id,
    ...Object.values(t.users).map((u) => u.id),
    ...Object.values(t.tokenIds),
    t.imageId,
    t.repositoryId,
    t.completedScanId,
    t.queuedScanId,
    t.batchId,
    t.vulnerabilityId,
  ];
}

/** What tenant a's things look like, to compare before and after tenant b's attempts. */
async function stateOf(t: Tenant) {
  const { orgs, scans } = { orgs: h.backends.stores.orgs, scans: h.cp.services.scans };
  return {
    queuedScan: (await scans.getScan(t.org.id, t.queuedScanId))?.status,
    batchCancelled: (await scans.getBatch(t.org.id, t.batchId))?.cancelledAt !== null,
    viewerRole: (await orgs.getUser(t.org.id, t.users.viewer.id))?.role,
    revokedTokens: (await orgs.listTokens(t.org.id)).filter((k) => k.revokedAt !== null).length,
    users: (await orgs.listUsers(t.org.id)).length,
  };
}

describe('tenant isolation', () => {
  it.each(['role:admin', 'scope:admin'] as const)(
    "tenant b (%s) cannot read, change or count tenant a's things on any route",
    async (name) => {
      const before = await stateOf(h.a);
      const foreign = identifiers(h.a);
      const outcomes: Record<string, unknown> = {};
      const expected: Record<string, unknown> = {};
      for (const c of ROUTE_CASES) {
        // a route this caller may not call at all is the roles test's (snapshot downloads take no session)
        if (c.access !== 'public' && !ADMITTED[c.access].includes(name)) continue;
        const request = await c.request(h.a, h.fresh);
        const res = await call(h.app, await callerOf(name, h.b), request);
        // An id the caller sent may come back in a "not found" message; any other of a's ids is a leak.
        const sent = JSON.stringify(request);
        const leaks = foreign.filter((id) => res.body.includes(id) && !sent.includes(id));
        outcomes[c.route] = c.byId
          ? { status: res.statusCode, code: res.json<{ code: string }>().code, leaks }
          : { ok: res.statusCode < 300, leaks };
        expected[c.route] = c.byId
          ? { status: 404, code: 'CP_NOT_FOUND', leaks: [] }
          : { ok: true, leaks: [] };
      }
      const summary = await call(h.app, await callerOf(name, h.b), { method: 'GET', url: '/api/v1/summary' });
      const { rows } = await h.backends.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM images WHERE org_id = $1',
        [h.b.org.id],
      );
      expect({
        outcomes,
        after: await stateOf(h.a),
        images: summary.json<{ images: number }>().images,
      }).toEqual({
        outcomes: expected,
        after: before,
        images: rows[0]!.n,
      });
    },
  );

  it("answers tenant b's bulk rescan of tenant a's images with a batch that matched none of them", async () => {
    const res = await call(
      h.app,
      { bearer: h.b.tokens.admin },
      {
        method: 'POST',
        url: '/api/v1/scans/bulk',
        body: { imageIds: [h.a.imageId], force: true },
      },
    );
    expect({ status: res.statusCode, ...res.json<Record<string, unknown>>() }).toMatchObject({
      status: 202,
      requested: 1,
      matched: 0,
      total: 0,
    });
  });
});

describe('roles and token scopes', () => {
  it('admit exactly the callers each route allows, and refuse the others with CP_FORBIDDEN', async () => {
    const outcomes: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const c of ROUTE_CASES) {
      for (const name of CALLERS) {
        const res = await call(h.app, await callerOf(name, h.a), await c.request(h.a, h.fresh));
        const key = `${c.route} as ${name}`;
        outcomes[key] =
          res.statusCode < 400 ? 'allowed' : `${res.statusCode} ${res.json<{ code: string }>().code}`;
        expected[key] =
          c.access !== 'public' && ADMITTED[c.access].includes(name) ? 'allowed' : refusalOf(c.access);
      }
    }
    expect(outcomes).toEqual(expected);
  });

  it('refuses every route without credentials, with unknown ones, and with a revoked token', async () => {
    const revoked = await call(
      h.app,
      { bearer: h.a.tokens.admin },
      {
        method: 'POST',
        url: '/api/v1/tokens',
        body: { name: 'soon revoked', scopes: ['admin'] },
      },
    );
    const { token, secret } = revoked.json<{ token: { id: string }; secret: string }>();
    await call(h.app, { bearer: h.a.tokens.admin }, { method: 'DELETE', url: `/api/v1/tokens/${token.id}` });
    const callers: Record<string, Caller> = {
      none: null,
      'unknown token': { bearer: `vgl_${'A'.repeat(43)}` },
      'not a token': { bearer: 'hunter2' },
      'revoked token': { bearer: secret },
      'unknown session': { session: { secret: 'x'.repeat(43), csrf: 'y'.repeat(43) } },
    };
    const outcomes: Record<string, string> = {};
    for (const c of ROUTE_CASES) {
      for (const [label, caller] of Object.entries(callers)) {
        const res = await call(h.app, caller, await c.request(h.a, h.fresh));
        outcomes[`${c.route} ${label}`] = `${res.statusCode} ${res.json<{ code: string }>().code}`;
      }
    }
    expect(new Set(Object.values(outcomes))).toEqual(new Set(['401 CP_UNAUTHENTICATED']));
  });
});

describe('scanning entitlement', () => {
  it('refuses scan-creating routes with CP_ENTITLEMENT_DISABLED when scanning is off, and nothing else', async () => {
    await h.backends.stores.orgs.setEntitlements(h.a.org.id, { scanningEnabled: false });
    const outcomes: Record<string, string> = {};
    const expected: Record<string, string> = {};
    try {
      for (const c of ROUTE_CASES) {
        for (const name of ['scope:admin', 'role:member', 'role:viewer'] as const) {
          const res = await call(h.app, await callerOf(name, h.a), await c.request(h.a, h.fresh));
          const key = `${c.route} as ${name}`;
          outcomes[key] =
            res.statusCode < 400 ? 'allowed' : `${res.statusCode} ${res.json<{ code: string }>().code}`;
          const admitted = c.access !== 'public' && ADMITTED[c.access].includes(name);
          expected[key] = !admitted
            ? refusalOf(c.access)
            : c.scanning
              ? '403 CP_ENTITLEMENT_DISABLED'
              : 'allowed';
        }
      }
    } finally {
      await h.backends.stores.orgs.setEntitlements(h.a.org.id, { scanningEnabled: true });
    }
    expect(outcomes).toEqual(expected);
  });
});

describe('OpenAPI document', () => {
  it('lists every route, with the error model on every authenticated operation', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/docs/json' });
    const doc = res.json<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>();
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const withoutErrorModel = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => path.startsWith('/api/v1') && !op.responses['401'])
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    const ui = await h.app.inject({ method: 'GET', url: '/api/docs' });
    expect({
      status: res.statusCode,
      operations: operations.sort(),
      withoutErrorModel,
      ui: ui.statusCode < 400,
    }).toEqual({
      status: 200,
      operations: [
        ...ROUTE_CASES.map((c) => c.route),
        'POST /api/v1/auth/login',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
      ].sort(),
      withoutErrorModel: [],
      ui: true,
    });
  });

  it('refuses to register an /api/v1 route that declares no permission', () => {
    const app = Fastify();
    installAuthHook(app, { auth: h.auth, allowedOrigins: [] });
    expect(() => app.get('/api/v1/forgotten', async () => 'open')).toThrow(
      'route GET /api/v1/forgotten declares no permission',
    );
  });
});
