/**
 * Authentication and authorisation of REST requests, before the body is read. Every /api/v1 route declares
 * `config.permission` (a Permission of auth/permissions.ts, or `public`); registering one without it fails at
 * start-up, so no route can be left open by omission. A request presents a bearer token (API clients; CSRF does
 * not apply) or the session cookie (the console; state-changing requests need the CSRF header and an allowed
 * origin). The principal found scopes everything the route does to its organisation.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, type Auth } from '../auth/authenticate.js';
import { checkCsrf, CSRF_HEADER } from '../auth/csrf.js';
import { authorize, type Permission } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { ControlPlaneError } from '../errors.js';

/** The cookie holding the session secret (httpOnly). */
export const SESSION_COOKIE = 'vigil_session';
/** The readable cookie holding the session's CSRF token, for the double-submit header. */
export const CSRF_COOKIE = 'vigil_csrf';
/** Routes under this prefix must declare a permission. */
export const API_PREFIX = '/api/v1';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** who may call the route; `public` needs no credentials */
    permission?: Permission | 'public';
  }
  interface FastifyRequest {
    /** the authenticated caller; null on public routes */
    principal: Principal | null;
  }
}

export interface AuthHookOptions {
  auth: Auth;
  /** origins allowed to send cookie-authenticated state-changing requests besides the server's own */
  allowedOrigins: readonly string[];
}

/** The caller of an authenticated route (set by the hook; a route without a permission has none). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ControlPlaneError('CP_UNAUTHENTICATED', 'not authenticated');
  return request.principal;
}

/** The origin the request was sent to, as a browser writes it in `Origin`. */
function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function identify(request: FastifyRequest, options: AuthHookOptions): Promise<Principal> {
  const token = bearerToken(header(request, 'authorization'));
  if (token !== null) return options.auth.authenticateToken(token);
  const secret = request.cookies[SESSION_COOKIE];
  if (secret === undefined) {
    throw new ControlPlaneError('CP_UNAUTHENTICATED', 'sign in, or send "Authorization: Bearer <API token>"');
  }
  const principal = await options.auth.authenticateSession(secret);
  checkCsrf(
    {
      method: request.method,
      token: header(request, CSRF_HEADER),
      origin: header(request, 'origin'),
      referer: header(request, 'referer'),
    },
    principal.session.csrfToken,
    [ownOrigin(request), ...options.allowedOrigins],
  );
  return principal;
}

/** Installs the hook on `app` (call before registering routes: it checks each route as it is added). */
export function installAuthHook(app: FastifyInstance, options: AuthHookOptions): void {
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    const permission = (route.config as { permission?: unknown } | undefined)?.permission;
    if (route.url.startsWith(API_PREFIX) && permission === undefined) {
      throw new Error(`route ${route.method} ${route.url} declares no permission`);
    }
  });
  app.addHook('onRequest', async (request: FastifyRequest, _reply: FastifyReply) => {
    const permission = request.routeOptions.config.permission;
    if (permission === undefined || permission === 'public') return;
    const principal = await identify(request, options);
    authorize(principal, permission);
    request.principal = principal;
  });
}
