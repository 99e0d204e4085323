/**
 * What the route plugins share: the account stores, authentication, the service layer and the gateway's
 * options. Built once by buildApi.
 */
import type { Auth } from '../auth/authenticate.js';
import type { SessionStore } from '../auth/sessions.js';
import type { QueryService, ScanService } from '../services/api.js';
import type { AuditStore, OrgStore } from '../services/types.js';

/** Tunables of the REST gateway (all optional; defaults in buildApi). */
export interface ApiOptions {
  /** Secure cookies: true/false, or undefined for "when the request came over https" (see trustProxy) */
  cookieSecure?: boolean;
  /** Fastify trustProxy: trust X-Forwarded-* from these proxies (default false) */
  trustProxy?: boolean | string | string[];
  /** origins besides the server's own that may send cookie-authenticated writes (e.g. a console dev server) */
  allowedOrigins?: string[];
  /** body limit of API calls in bytes (default 1 MiB) */
  bodyLimit?: number;
  /** body limit of report uploads in bytes (default 64 MiB) */
  reportBodyLimit?: number;
  /** interval of SSE heartbeat comments in ms (default 15,000) */
  sseHeartbeatMs?: number;
  /** per-check timeout of /readyz in ms (default 2,000) */
  readinessTimeoutMs?: number;
}

export interface ApiContext {
  orgs: OrgStore;
  audit: AuditStore;
  sessions: SessionStore;
  auth: Auth;
  scans: ScanService;
  queries: QueryService;
  options: Required<Pick<ApiOptions, 'reportBodyLimit' | 'sseHeartbeatMs'>> &
    Pick<ApiOptions, 'cookieSecure'>;
}
