/**
 * Accounts at the REST edge over real Postgres: password login into session cookies, CSRF (token header and
 * origin), logout and expiry, login throttling, live role and password changes, API tokens shown once and
 * revoked, the audit log of it all, the first-admin bootstrap, the error model for bugs, and — over every log
 * line this file produced — that no password, token, session secret or CSRF token was logged.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin } from '../auth/bootstrap.js';
import { buildApi, type ApiDeps } from './app.js';
import { createLogger } from './logger.js';
import {
  call,
  PASSWORD,
  startApi,
  type ApiHarness,
  type SessionCredentials,
} from './testdata/api-harness.js';

const lines: string[] = [];
const logger = createLogger({
  destination: new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  }),
});
/** Every secret this file handles, to look for in the logs at the end. */
const secrets = new Set<string>([PASSWORD]);

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi({ logger, limiter: { perAccount: 3, windowMs: 60_000 } });
  for (const t of [h.a, h.b]) for (const token of Object.values(t.tokens)) secrets.add(token);
});
afterAll(async () => {
  await h?.close();
});

/** Another gateway over the same parts, with other options or services. */
function api(overrides: Partial<ApiDeps>): Promise<FastifyInstance> {
  return buildApi({
    stores: h.backends.stores,
    sessions: h.sessions,
    auth: h.auth,
    services: h.cp.services,
    logger,
    ...overrides,
  });
}

async function login(email: string, password = PASSWORD): Promise<SessionCredentials> {
  const session = await h.login(email, password);
  secrets.add(session.secret).add(session.csrf);
  return session;
}

const code = (res: { statusCode: number; body: string }) =>
  `${res.statusCode} ${res.statusCode < 400 ? '-' : (JSON.parse(res.body) as { code: string }).code}`;

describe('password login', () => {
  it('sets an httpOnly SameSite=Lax session cookie and a readable CSRF cookie, Secure behind https', async () => {
    const body = { email: 'member@tenant-a.test', password: PASSWORD };
    const plain = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: body });
    const proxied = await api({ options: { trustProxy: true } });
    const secure = await proxied.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: body,
      headers: { 'x-forwarded-proto': 'https' },
    });
    await proxied.close();
    const attributes = (res: typeof plain) =>
      res.cookies.map((c) => {
        secrets.add(c.value);
        return {
          name: c.name,
          path: c.path,
          httpOnly: c.httpOnly ?? false,
          sameSite: c.sameSite,
          secure: c.secure ?? false,
        };
      });
    expect({
      plain: attributes(plain),
      secure: attributes(secure),
      answer: Object.keys(plain.json<object>()).sort(),
      csrfMatchesCookie: plain.json<{ csrfToken: string }>().csrfToken === plain.cookies[1]?.value,
    }).toEqual({
      plain: [
        { name: 'vigil_session', path: '/', httpOnly: true, sameSite: 'Lax', secure: false },
        { name: 'vigil_csrf', path: '/', httpOnly: false, sameSite: 'Lax', secure: false },
      ],
      secure: [
        { name: 'vigil_session', path: '/', httpOnly: true, sameSite: 'Lax', secure: true },
        { name: 'vigil_csrf', path: '/', httpOnly: false, sameSite: 'Lax', secure: true },
      ],
      answer: ['csrfToken', 'org', 'user'],
      csrfMatchesCookie: true,
    });
  });

  it('answers a wrong password and an unknown account alike', async () => {
    const attempt = (email: string, password: string) =>
      h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
    const [wrong, unknown, upper] = await Promise.all([
      attempt('admin@tenant-b.test', 'not the password'),
      attempt('nobody@nowhere.test', 'not the password'),
      attempt('ADMIN@Tenant-B.test', PASSWORD),
    ]);
    expect({ wrong: wrong.json<object>(), unknown: unknown.json<object>(), upper: upper.statusCode }).toEqual(
      {
        wrong: { code: 'CP_UNAUTHENTICATED', message: 'email or password is wrong' },
        unknown: { code: 'CP_UNAUTHENTICATED', message: 'email or password is wrong' },
        upper: 200,
      },
    );
  });

  it('throttles an account after repeated failures, even for the right password, with Retry-After', async () => {
    const attempt = (password: string) =>
      h.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'viewer@tenant-b.test', password },
      });
    const outcomes: string[] = [];
    for (const password of ['wrong 1', 'wrong 2', 'wrong 3', PASSWORD])
      outcomes.push(code(await attempt(password)));
    const limited = await attempt(PASSWORD);
    // the rest of the window: 60 s less the time the attempts took (a loaded machine may take seconds)
    const retryAfter = Number(limited.headers['retry-after']);
    expect({
      outcomes,
      retryAfter: retryAfter >= 1 && retryAfter <= 60 ? 'within the window' : retryAfter,
    }).toEqual({
      outcomes: [
        '401 CP_UNAUTHENTICATED',
        '401 CP_UNAUTHENTICATED',
        '401 CP_UNAUTHENTICATED',
        '429 CP_RATE_LIMITED',
      ],
      retryAfter: 'within the window',
    });
  });
});

describe('sessions and CSRF', () => {
  it('needs the CSRF header and an allowed origin for cookie-authenticated writes, not for reads or bearer tokens', async () => {
    const session = await login('member@tenant-a.test');
    const scan = { method: 'POST', url: '/api/v1/scans', body: { imageId: h.a.imageId, force: true } };
    const as = (headers: Record<string, string>) => call(h.app, { session }, { ...scan, headers });
    const console = await api({ options: { allowedOrigins: ['https://console.example'] } });
    const fromConsole = await call(
      console,
      { session },
      { ...scan, headers: { origin: 'https://console.example' } },
    );
    await console.close();
    expect({
      read: code(
        await call(h.app, { session: { ...session, csrf: '' } }, { method: 'GET', url: '/api/v1/auth/me' }),
      ),
      noHeader: code(await as({ 'x-csrf-token': '' })),
      wrongToken: code(await as({ 'x-csrf-token': 'A'.repeat(43) })),
      rightToken: code(await as({})),
      evilOrigin: code(await as({ origin: 'https://evil.example' })),
      nullOrigin: code(await as({ origin: 'null' })),
      evilReferer: code(await as({ referer: 'https://evil.example/page' })),
      ownOrigin: code(await as({ origin: 'http://vigil.test', host: 'vigil.test' })),
      allowedOrigin: code(fromConsole),
      bearer: code(
        await call(
          h.app,
          { bearer: h.a.tokens.ci },
          { ...scan, headers: { origin: 'https://evil.example' } },
        ),
      ),
    }).toEqual({
      read: '200 -',
      noHeader: '403 CP_CSRF',
      wrongToken: '403 CP_CSRF',
      rightToken: '201 -',
      evilOrigin: '403 CP_CSRF',
      nullOrigin: '403 CP_CSRF',
      evilReferer: '403 CP_CSRF',
      ownOrigin: '201 -',
      allowedOrigin: '201 -',
      bearer: '201 -',
    });
  });

  it('ends a session on logout (cookies cleared) and when it expires', async () => {
    const session = await login('viewer@tenant-a.test');
    const logout = await call(h.app, { session }, { method: 'POST', url: '/api/v1/auth/logout' });
    const after = await call(h.app, { session }, { method: 'GET', url: '/api/v1/auth/me' });
    const expiring = await login('viewer@tenant-a.test');
    const me = () => call(h.app, { session: expiring }, { method: 'GET', url: '/api/v1/auth/me' });
    const before = code(await me());
    await h.backends.db.query(
      `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE csrf_token = $1`,
      [expiring.csrf],
    );
    expect({
      logout: code(logout),
      cleared: logout.cookies.map((c) => ({
        name: c.name,
        value: c.value,
        expired: (c.expires?.getTime() ?? 1) <= Date.now(),
      })),
      after: code(after),
      before,
      expired: code(await me()),
      pruned: await h.sessions.pruneExpired(),
    }).toEqual({
      logout: '204 -',
      cleared: [
        { name: 'vigil_session', value: '', expired: true },
        { name: 'vigil_csrf', value: '', expired: true },
      ],
      after: '401 CP_UNAUTHENTICATED',
      before: '200 -',
      expired: '401 CP_UNAUTHENTICATED',
      pruned: 1,
    });
  });

  it("applies role changes to live sessions at once, and a new password ends the user's other sessions", async () => {
    const admin = await login('admin@tenant-a.test');
    const created = await call(
      h.app,
      { session: admin },
      {
        method: 'POST',
        url: '/api/v1/users',
        body: {
          email: 'carol@tenant-a.test',
          role: 'member',
          password: 'carol first password',
          displayName: 'Carol',
        },
      },
    );
    secrets.add('carol first password').add('carol second password');
    const carolId = created.json<{ id: string }>().id;
    const carol = await login('carol@tenant-a.test', 'carol first password');
    const scan = () =>
      call(
        h.app,
        { session: carol },
        { method: 'POST', url: '/api/v1/scans', body: { imageId: h.a.imageId, force: true } },
      );
    const patch = (body: object) =>
      call(h.app, { session: admin }, { method: 'PATCH', url: `/api/v1/users/${carolId}`, body });
    const asMember = code(await scan());
    const demoted = await patch({ role: 'viewer' });
    const asViewer = code(await scan());
    await patch({ password: 'carol second password' });
    expect({
      created: code(created),
      asMember,
      demoted: demoted.json<{ role: string }>().role,
      asViewer,
      oldSession: code(await call(h.app, { session: carol }, { method: 'GET', url: '/api/v1/auth/me' })),
      adminSession: code(await call(h.app, { session: admin }, { method: 'GET', url: '/api/v1/auth/me' })),
      oldPassword: code(
        await h.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: 'carol@tenant-a.test', password: 'carol first password' },
        }),
      ),
      newPassword: (await login('carol@tenant-a.test', 'carol second password')).secret.length,
    }).toEqual({
      created: '201 -',
      asMember: '201 -',
      demoted: 'viewer',
      asViewer: '403 CP_FORBIDDEN',
      oldSession: '401 CP_UNAUTHENTICATED',
      adminSession: '200 -',
      oldPassword: '401 CP_UNAUTHENTICATED',
      newPassword: 43,
    });
  });
});

describe('API tokens', () => {
  it('shows the secret once, authenticates with it until revoked, and audits admin actions', async () => {
    const admin = { bearer: h.b.tokens.admin };
    const created = await call(h.app, admin, {
      method: 'POST',
      url: '/api/v1/tokens',
      body: { name: 'ci pipeline', scopes: ['ci', 'read'] },
    });
    const { token, secret } = created.json<{
      token: { id: string; prefix: string; scopes: string[] };
      secret: string;
    }>();
    secrets.add(secret);
    const listed = await call(h.app, admin, { method: 'GET', url: '/api/v1/tokens' });
    const me = await call(h.app, { bearer: secret }, { method: 'GET', url: '/api/v1/auth/me' });
    await call(h.app, admin, { method: 'DELETE', url: `/api/v1/tokens/${token.id}` });
    const afterRevoke = await call(h.app, { bearer: secret }, { method: 'GET', url: '/api/v1/auth/me' });
    const audit = await h.backends.stores.audit.listAudit(h.b.org.id, { limit: 100 });
    expect({
      created: code(created),
      secretShape: /^vgl_[A-Za-z0-9_-]{43}$/.test(secret) && secret.startsWith(token.prefix),
      secretListed: listed.body.includes(secret),
      me: me.json<{ kind: string; permissions: string[] }>(),
      afterRevoke: code(afterRevoke),
      audit: audit.items
        .filter((e) => e.action.startsWith('token.') || e.action === 'user.login_failed')
        .map((e) => ({
          action: e.action,
          actor: e.actor.type,
          target: e.target?.id === token.id ? 'the token' : e.target?.type,
        })),
    }).toMatchObject({
      created: '201 -',
      secretShape: true,
      secretListed: false,
      me: { kind: 'token', permissions: ['self', 'read', 'scan.create', 'report.upload'] },
      afterRevoke: '401 CP_UNAUTHENTICATED',
      audit: [
        { action: 'token.revoke', actor: 'token', target: 'the token' },
        { action: 'token.create', actor: 'token', target: 'the token' },
        // the throttling test's failures, and the wrong-password test's
        ...Array.from({ length: 4 }, () => ({ action: 'user.login_failed', actor: 'user', target: 'user' })),
      ],
    });
  });

  it("audits user creation, role changes and password changes in the user's organisation", async () => {
    const audit = await h.backends.stores.audit.listAudit(h.a.org.id, { limit: 100 });
    expect(
      audit.items
        .filter((e) => e.action.startsWith('user.') && e.action !== 'user.login_failed')
        .map((e) => ({ action: e.action, actor: e.actor.type, details: e.details })),
    ).toEqual([
      { action: 'user.password_set', actor: 'user', details: {} },
      { action: 'user.role_change', actor: 'user', details: { from: 'member', to: 'viewer' } },
      { action: 'user.create', actor: 'user', details: { role: 'member' } },
    ]);
  });
});

describe('first admin', () => {
  it('creates the organisation and admin once, even when control planes start together', async () => {
    const deps = { orgs: h.backends.stores.orgs, audit: h.backends.stores.audit, db: h.backends.db };
    const input = { email: 'root@boot.test', password: 'bootstrap password 1', orgSlug: 'boot' };
    secrets.add(input.password);
    const together = await Promise.all([1, 2, 3].map(() => bootstrapAdmin(deps, input)));
    const again = await bootstrapAdmin(deps, { ...input, password: 'another password 2' });
    const second = await bootstrapAdmin(deps, { ...input, email: 'second@boot.test' });
    const session = await login('root@boot.test', input.password);
    expect({
      created: together.map((r) => r.created).sort(),
      sameUser: new Set(together.map((r) => r.user.id)).size,
      again: again.created,
      secondOrg: second.org.id === again.org.id && second.created,
      role: together[0]!.user.role,
      canSignIn: session.secret.length,
      shortPassword: await bootstrapAdmin(deps, { ...input, email: 'x@boot.test', password: 'short' }).catch(
        (e: { code: string }) => e.code,
      ),
    }).toEqual({
      created: [false, false, true],
      sameUser: 1,
      again: false,
      secondOrg: true,
      role: 'admin',
      canSignIn: 43,
      shortPassword: 'CP_INVALID_ARGUMENT',
    });
  });
});

describe('errors and logs', () => {
  it('answers a bug with 500 CP_INTERNAL and no details, and logs it', async () => {
    const broken = await api({
      services: {
        scans: h.cp.services.scans,
        queries: {
          ...h.cp.services.queries,
          summary: () => {
            throw new TypeError('boom: internal detail');
          },
        },
      },
    });
    const res = await call(broken, { bearer: h.a.tokens.read }, { method: 'GET', url: '/api/v1/summary' });
    await broken.close();
    expect({
      status: res.statusCode,
      body: res.json<object>(),
      logged: lines.some((l) => l.includes('boom: internal detail') && l.includes('"level":50')),
    }).toEqual({ status: 500, body: { code: 'CP_INTERNAL', message: 'internal error' }, logged: true });
  });

  it('logged requests with their headers, and not one password, token, session secret or CSRF token', () => {
    const log = lines.join('');
    expect({
      requests: lines.filter((l) => l.includes('"msg":"incoming request"')).length > 20,
      redacted: log.includes('"authorization":"[redacted]"') && log.includes('"cookie":"[redacted]"'),
      found: [...secrets].filter((s) => s.length > 0 && log.includes(s)),
    }).toEqual({ requests: true, redacted: true, found: [] });
  });
});
