/**
 * Test support (not built): every /api/v1 route as a request against one tenant's things, for the table-driven
 * route tests (tenant isolation, roles and scopes, entitlements, hostile input). `access` is what the test
 * expects of the route, written out here rather than read from the permission table under test.
 */
import type { Role } from '../../services/types.js';
import type { SessionCredentials, Tenant } from './api-harness.js';
import { sha256Digest } from './api-harness.js';

/**
 * Who may call a route, as the tests expect it. `download`: API tokens of any scope (bearer only: a session is
 * refused with 401, see {@link refusalOf}), like the snapshot downloads workers make with the worker token.
 */
export type Access = 'public' | 'self' | 'read' | 'download' | 'write' | 'operate' | 'admin';

export interface RouteRequest {
  method: string;
  url: string;
  /** JSON, or a Buffer sent as it is (with its content-type in `headers`) */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Throwaway things for routes that change what they touch, so each call has its own target. */
export interface Fresh {
  queuedScanId(t: Tenant): Promise<string>;
  tokenId(t: Tenant): Promise<string>;
  /** a new session of the tenant's user of `role` (default admin), without a password login */
  session(t: Tenant, role?: Role): Promise<SessionCredentials>;
  /** the published vulnerability database snapshot: its version and its file (to upload again) */
  snapshot(): { version: string; bytes: Buffer };
}

export interface RouteCase {
  /** `METHOD /path` as in the OpenAPI document */
  route: string;
  access: Access;
  /** a valid request against tenant `t` */
  request(t: Tenant, fresh: Fresh): Promise<RouteRequest> | RouteRequest;
  /** true when the request names one of the tenant's things by id: a foreign caller gets 404 */
  byId: boolean;
  /** creates scans (refused with CP_ENTITLEMENT_DISABLED when scanning is off) */
  scanning?: true;
}

let uploads = 0;
/** A minimal valid Vigil JSON report (schemaVersion 1) of a new image in `repository`. */
export function report(repository: string): Record<string, unknown> {
  const zero = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  return {
    schemaVersion: 1,
    artifact: { name: repository, kind: 'registry', digest: sha256Digest(`upload-${++uploads}-${repository}`) },
    db: null,
    packages: [],
    vulnerabilities: [],
    unknowns: [],
    summary: { ...zero, total: 0 },
    status: 'succeeded',
    scannedAt: '2025-01-02T03:04:05Z',
    remediations: [],
    warnings: [],
  };
}

let users = 0;
const v1 = (path: string) => `/api/v1${path}`;

export const ROUTE_CASES: readonly RouteCase[] = [
  {
    route: 'POST /api/v1/auth/logout',
    access: 'self',
    byId: false,
    request: () => ({ method: 'POST', url: v1('/auth/logout') }),
  },
  { route: 'GET /api/v1/auth/me', access: 'self', byId: false, request: () => ({ method: 'GET', url: v1('/auth/me') }) },
  { route: 'GET /api/v1/summary', access: 'read', byId: false, request: () => ({ method: 'GET', url: v1('/summary') }) },
  {
    route: 'GET /api/v1/images',
    access: 'read',
    byId: false,
    request: (t) => ({ method: 'GET', url: v1(`/images?sort=severity&text=${t.org.slug}`) }),
  },
  {
    route: 'GET /api/v1/images/{id}',
    access: 'read',
    byId: true,
    request: (t) => ({ method: 'GET', url: v1(`/images/${t.imageId}`) }),
  },
  {
    route: 'GET /api/v1/images/{id}/findings',
    access: 'read',
    byId: true,
    request: (t) => ({ method: 'GET', url: v1(`/images/${t.imageId}/findings?minSeverity=LOW`) }),
  },
  {
    route: 'GET /api/v1/vulnerabilities/{id}/images',
    access: 'read',
    byId: false,
    request: (t) => ({ method: 'GET', url: v1(`/vulnerabilities/${t.vulnerabilityId}/images`) }),
  },
  {
    route: 'POST /api/v1/scans',
    access: 'write',
    byId: true,
    scanning: true,
    request: (t) => ({ method: 'POST', url: v1('/scans'), body: { imageId: t.imageId, force: true } }),
  },
  {
    route: 'GET /api/v1/scans/{id}',
    access: 'read',
    byId: true,
    request: (t) => ({ method: 'GET', url: v1(`/scans/${t.completedScanId}`) }),
  },
  {
    route: 'POST /api/v1/scans/{id}/cancel',
    access: 'operate',
    byId: true,
    request: async (t, fresh) => ({ method: 'POST', url: v1(`/scans/${await fresh.queuedScanId(t)}/cancel`) }),
  },
  {
    route: 'GET /api/v1/scans/{id}/events',
    access: 'read',
    byId: true,
    request: (t) => ({ method: 'GET', url: v1(`/scans/${t.completedScanId}/events`) }),
  },
  {
    route: 'GET /api/v1/scans/{id}/diff',
    access: 'read',
    byId: true,
    request: (t) => ({ method: 'GET', url: v1(`/scans/${t.completedScanId}/diff?limit=10`) }),
  },
  {
    route: 'POST /api/v1/scans/bulk',
    access: 'operate',
    byId: false,
    scanning: true,
    request: (t) => ({ method: 'POST', url: v1('/scans/bulk'), body: { imageIds: [t.imageId], force: true } }),
  },
  {
    route: 'GET /api/v1/scans/bulk/{id}',
    access: 'read',
    byId: true,
    request: (t) => ({ method: 'GET', url: v1(`/scans/bulk/${t.batchId}`) }),
  },
  {
    route: 'POST /api/v1/scans/bulk/{id}/cancel',
    access: 'operate',
    byId: true,
    request: (t) => ({ method: 'POST', url: v1(`/scans/bulk/${t.batchId}/cancel`) }),
  },
  {
    route: 'POST /api/v1/reports',
    access: 'write',
    byId: false,
    scanning: true,
    request: (t) => ({ method: 'POST', url: v1('/reports'), body: report(`registry.test/${t.org.slug}/uploaded`) }),
  },
  { route: 'GET /api/v1/db', access: 'read', byId: false, request: () => ({ method: 'GET', url: v1('/db') }) },
  // the vulnerability database is shared by every organisation: none of these names a tenant's things
  {
    route: 'GET /api/v1/db/snapshot',
    access: 'download',
    byId: false,
    request: () => ({ method: 'GET', url: v1('/db/snapshot'), headers: { range: 'bytes=0-15' } }),
  },
  {
    route: 'GET /api/v1/db/snapshots/{version}',
    access: 'download',
    byId: false,
    request: (_t, fresh) => ({
      method: 'GET',
      url: v1(`/db/snapshots/${fresh.snapshot().version}`),
      headers: { range: 'bytes=0-15' },
    }),
  },
  {
    route: 'POST /api/v1/db/update',
    access: 'admin',
    byId: false,
    request: () => ({ method: 'POST', url: v1('/db/update') }),
  },
  {
    route: 'PUT /api/v1/db/snapshot',
    access: 'admin',
    byId: false,
    request: (_t, fresh) => ({
      method: 'PUT',
      url: v1('/db/snapshot'),
      body: fresh.snapshot().bytes,
      headers: { 'content-type': 'application/vnd.sqlite3' },
    }),
  },
  { route: 'GET /api/v1/users', access: 'admin', byId: false, request: () => ({ method: 'GET', url: v1('/users') }) },
  {
    route: 'POST /api/v1/users',
    access: 'admin',
    byId: false,
    request: (t) => ({
      method: 'POST',
      url: v1('/users'),
      body: { email: `new-${++users}@${t.org.slug}.test`, role: 'viewer' },
    }),
  },
  {
    route: 'GET /api/v1/users/{id}',
    access: 'admin',
    byId: true,
    request: (t) => ({ method: 'GET', url: v1(`/users/${t.users.viewer.id}`) }),
  },
  {
    route: 'PATCH /api/v1/users/{id}',
    access: 'admin',
    byId: true,
    request: (t) => ({ method: 'PATCH', url: v1(`/users/${t.users.viewer.id}`), body: { role: 'viewer' } }),
  },
  { route: 'GET /api/v1/tokens', access: 'admin', byId: false, request: () => ({ method: 'GET', url: v1('/tokens') }) },
  {
    route: 'POST /api/v1/tokens',
    access: 'admin',
    byId: false,
    request: () => ({ method: 'POST', url: v1('/tokens'), body: { name: 'throwaway', scopes: ['read'] } }),
  },
  {
    route: 'GET /api/v1/tokens/{id}',
    access: 'admin',
    byId: true,
    request: (t) => ({ method: 'GET', url: v1(`/tokens/${t.tokenIds.read}`) }),
  },
  {
    route: 'DELETE /api/v1/tokens/{id}',
    access: 'admin',
    byId: true,
    request: async (t, fresh) => ({ method: 'DELETE', url: v1(`/tokens/${await fresh.tokenId(t)}`) }),
  },
];

/** Callers of the permission table test: each role by session, each scope by token. */
export const CALLERS = [
  'role:admin',
  'role:member',
  'role:viewer',
  'scope:admin',
  'scope:ci',
  'scope:read',
] as const;
export type CallerName = (typeof CALLERS)[number];

/** The callers each access level admits (the specification the table test checks the gateway against). */
export const ADMITTED: Record<Exclude<Access, 'public'>, readonly CallerName[]> = {
  self: CALLERS,
  read: CALLERS,
  download: ['scope:admin', 'scope:ci', 'scope:read'],
  write: ['role:admin', 'role:member', 'scope:admin', 'scope:ci'],
  operate: ['role:admin', 'role:member', 'scope:admin'],
  admin: ['role:admin', 'scope:admin'],
};

/** How a route of `access` refuses a caller it does not admit (`status code`). */
export function refusalOf(access: Access): string {
  return access === 'download' ? '401 CP_UNAUTHENTICATED' : '403 CP_FORBIDDEN';
}
