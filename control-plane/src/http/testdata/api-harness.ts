/**
 * Test support (not built): the REST gateway over real parts — a scratch Postgres, chdb, the in-process queue
 * and the real service layer (services/testdata/harness.ts) — with two tenants, each holding a user of every
 * role, a token of every scope, a completed scan with findings, a queued scan and a batch (and tenant a three
 * never-scanned images more), and the vulnerability database sync over a snapshot directory seeded with the demo
 * feeds' snapshot (so the `/db` file, update and upload routes are served; updates fetch from a closed port and
 * fail fast, never from the internet). `call` sends a request
 * as one of those callers (bearer token, or session cookie + CSRF header).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Logger } from 'pino';
import { createAuth, type Auth } from '../../auth/authenticate.js';
import { createLoginLimiter, type LoginLimiterOptions } from '../../auth/rate-limit.js';
import { pgSessionStore, type SessionStore } from '../../auth/sessions.js';
import {
  completeReport,
  DB_VERSION,
  messages,
  openBackends,
  startServices,
  wireFinding,
  wirePackage,
  WORKER_TOKEN,
  type Backends,
  type ServiceInstance,
} from '../../services/testdata/harness.js';
import type { OrgRecord, Role, TokenScope, UserRecord } from '../../services/types.js';
import { generateApiToken, hashPassword } from '../../store/credentials.js';
import { processLock, startDbSync, type DbSync } from '../../vulndb-sync/index.js';
import { buildDemoSnapshot } from '../../vulndb-sync/testdata/snapshots.js';
import { buildApi } from '../app.js';
import { CSRF_COOKIE, SESSION_COOKIE } from '../auth-hook.js';
import { createLogger } from '../logger.js';
import type { ApiOptions } from '../context.js';
import type { Fresh } from './route-cases.js';

export const PASSWORD = 'correct horse battery staple';
export const ROLE_NAMES: readonly Role[] = ['admin', 'member', 'viewer'];
export const SCOPE_NAMES: readonly TokenScope[] = ['admin', 'ci', 'read'];

/** What one organisation holds for the tests. */
export interface Tenant {
  org: OrgRecord;
  users: Record<Role, UserRecord>;
  /** token secrets by scope */
  tokens: Record<TokenScope, string>;
  tokenIds: Record<TokenScope, string>;
  imageId: string;
  repositoryId: string;
  completedScanId: string;
  queuedScanId: string;
  batchId: string;
  /** a vulnerability id only this tenant's image has */
  vulnerabilityId: string;
}

export interface SessionCredentials {
  secret: string;
  csrf: string;
}

/** Who sends a request: nobody, an API token, or a signed-in user. */
export type Caller = null | { bearer: string } | { session: SessionCredentials };

export interface ApiHarness {
  backends: Backends;
  cp: ServiceInstance;
  sessions: SessionStore;
  auth: Auth;
  app: FastifyInstance;
  a: Tenant;
  b: Tenant;
  /** Signs in through the API and returns the cookie secret and CSRF token. */
  login(email: string, password?: string): Promise<SessionCredentials>;
  /** Throwaway things for requests that change what they touch. */
  fresh: Fresh;
  /** the database sync the `/db` routes serve */
  dbSync: DbSync;
  close(): Promise<void>;
}

export interface HarnessOptions {
  options?: ApiOptions;
  logger?: Logger;
  limiter?: LoginLimiterOptions;
}

export const sha256Digest = (label: string): string =>
  `sha256:${createHash('sha256').update(label).digest('hex')}`;

/** Sends `request` as `caller` through `app.inject`. */
export function call(
  app: FastifyInstance,
  caller: Caller,
  request: { method: string; url: string; body?: unknown; headers?: Record<string, string> },
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...request.headers };
  let cookies: Record<string, string> | undefined;
  if (caller && 'bearer' in caller) headers.authorization = `Bearer ${caller.bearer}`;
  if (caller && 'session' in caller) {
    cookies = { [SESSION_COOKIE]: caller.session.secret, [CSRF_COOKIE]: caller.session.csrf };
    headers['x-csrf-token'] ??= caller.session.csrf;
  }
  return app.inject({
    method: request.method as 'GET',
    url: request.url,
    headers,
    ...(cookies ? { cookies } : {}),
    ...(request.body === undefined ? {} : { payload: request.body as object }),
  });
}

async function seedTenant(
  backends: Backends,
  cp: ServiceInstance,
  slug: string,
  passwordHash: string,
  neverScanned: number,
): Promise<Tenant> {
  const { orgs, images } = backends.stores;
  const org = await orgs.createOrg({ slug, name: `Org ${slug}` });
  for (let i = 0; i < neverScanned; i++) {
    await images.upsertImage(org.id, { repository: `registry.test/${slug}/idle`, digest: sha256Digest(`${slug}-idle-${i}`) });
  }
  const users = {} as Record<Role, UserRecord>;
  for (const role of ROLE_NAMES) {
    users[role] = await orgs.createUser(org.id, { email: `${role}@${slug}.test`, role, passwordHash });
  }
  const tokens = {} as Record<TokenScope, string>;
  const tokenIds = {} as Record<TokenScope, string>;
  for (const scope of SCOPE_NAMES) {
    const { token, hash, prefix } = generateApiToken();
    tokens[scope] = token;
    tokenIds[scope] = (await orgs.createToken(org.id, { name: `${scope} token`, scopes: [scope], hash, prefix })).id;
  }
  const actor = { type: 'system' as const, id: null };
  const { scans } = cp.services;
  const vulnerabilityId = `CVE-2099-${slug === 'tenant-a' ? '1111' : '2222'}`;
  const completed = await scans.requestScan(
    org.id,
    { target: { reference: `registry.test/${slug}/app@${sha256Digest(`${slug}-app`)}` }, priority: 'manual' },
    actor,
  );
  const claim = await cp.worker.claimJob(
    { scanId: completed.scan.id, attempt: 1, workerId: 'w1' },
    { metadata: cp.metadata },
  );
  if (!claim.proceed) throw new Error(`seed: scan ${completed.scan.id} was not claimed`);
  const findings = [
    wireFinding(vulnerabilityId, 'CRITICAL', wirePackage('openssl', '3.0.1'), '3.0.2'),
    wireFinding('CVE-2024-0002', 'HIGH', wirePackage('openssl', '3.0.1')),
  ];
  await cp.worker.report(
    messages(completed.scan.id, 1, completeReport([wirePackage('openssl', '3.0.1')], findings)),
    { metadata: cp.metadata },
  );
  const queued = await scans.requestScan(
    org.id,
    { target: { reference: `registry.test/${slug}/queued@${sha256Digest(`${slug}-queued`)}` }, priority: 'ci' },
    actor,
  );
  const batch = await scans.bulkScan(
    org.id,
    { imageIds: [completed.image.id], priority: 'scheduled', force: true },
    actor,
  );
  return {
    org,
    users,
    tokens,
    tokenIds,
    imageId: completed.image.id,
    repositoryId: completed.image.repositoryId,
    completedScanId: completed.scan.id,
    queuedScanId: queued.scan.id,
    batchId: batch.id,
    vulnerabilityId,
  };
}

/**
 * The database sync over a snapshot directory in `dir`, seeded with the demo snapshot. Its `requestUpdate`
 * resolves once the update ended, so the route tables' calls never overlap (an overlapping one is a 409).
 */
async function startTestDbSync(dir: string): Promise<{ sync: DbSync; snapshot: { version: string; bytes: Buffer } }> {
  const seed = join(dir, 'seed.db');
  const version = await buildDemoSnapshot(seed);
  const sync = await startDbSync({
    dir: join(dir, 'snapshots'),
    lock: processLock(),
    seed,
    intervalMs: 0,
    pollMs: 3_600_000,
    sources: ['alpine'],
    // a closed port: an update fails at once with the feed's error, never reaching the internet
    mirrors: { alpine: 'http://127.0.0.1:9/alpine/' },
  });
  const settled: DbSync = {
    current: () => sync.current(),
    latest: () => sync.latest(),
    published: (v) => sync.published(v),
    async requestUpdate() {
      const started = await sync.requestUpdate();
      await started.done;
      return started;
    },
    upload: (body, maxBytes) => sync.upload(body, maxBytes),
    status: () => sync.status(),
    poll: () => sync.poll(),
    close: () => sync.close(),
  };
  return { sync: settled, snapshot: { version, bytes: await readFile(seed) } };
}

/** Starts everything and seeds tenants `a` and `b`. */
export async function startApi(options: HarnessOptions = {}): Promise<ApiHarness> {
  const backends = await openBackends();
  const dbDir = await mkdtemp(join(tmpdir(), 'vigil-api-db-'));
  const { sync: dbSync, snapshot } = await startTestDbSync(dbDir);
  const cp = await startServices(backends);
  const sessions = pgSessionStore(backends.db);
  const auth = createAuth({
    orgs: backends.stores.orgs,
    audit: backends.stores.audit,
    sessions,
    limiter: createLoginLimiter(options.limiter),
  });
  const passwordHash = await hashPassword(PASSWORD);
  // Different sizes, so a count that mixed tenants up would show.
  const a = await seedTenant(backends, cp, 'tenant-a', passwordHash, 3);
  const b = await seedTenant(backends, cp, 'tenant-b', passwordHash, 0);
  const app = await buildApi({
    stores: backends.stores,
    sessions,
    auth,
    services: cp.services,
    readiness: { postgres: () => backends.db.query('SELECT 1') },
    logger: options.logger ?? createLogger({ level: 'silent' }),
    options: { sseHeartbeatMs: 50, ...options.options },
    db: { sync: dbSync, workerToken: WORKER_TOKEN },
  });
  await app.ready();
  let throwaways = 0;
  const fresh: Fresh = {
    async queuedScanId(t) {
      // Through the stores, not the scan service: this works while the tenant's scanning is switched off.
      const { image } = await backends.stores.images.upsertImage(t.org.id, {
        repository: `registry.test/${t.org.slug}/throwaway`,
        digest: sha256Digest(`throwaway-${++throwaways}`),
      });
      const { scan } = await backends.stores.scans.createScan(t.org.id, {
        imageId: image.id,
        dbVersion: DB_VERSION,
        priority: 'ci',
      });
      return scan.id;
    },
    async tokenId(t) {
      const { hash, prefix } = generateApiToken();
      return (await backends.stores.orgs.createToken(t.org.id, { name: 'throwaway', scopes: ['read'], hash, prefix })).id;
    },
    async session(t, role = 'admin') {
      const { secret, session } = await sessions.create(t.org.id, t.users[role].id);
      return { secret, csrf: session.csrfToken };
    },
    snapshot: () => snapshot,
  };
  return {
    fresh,
    dbSync,
    backends,
    cp,
    sessions,
    auth,
    app,
    a,
    b,
    async login(email, password = PASSWORD) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
      if (res.statusCode !== 200) throw new Error(`login ${email}: ${res.statusCode} ${res.body}`);
      const secret = res.cookies.find((c) => c.name === SESSION_COOKIE)!.value;
      return { secret, csrf: (res.json() as { csrfToken: string }).csrfToken };
    },
    async close() {
      await app.close();
      await dbSync.close();
      await cp.close();
      await backends.dispose();
      await rm(dbDir, { recursive: true, force: true });
    },
  };
}
