/**
 * `/auth`: password login into a session cookie, logout, and who am I. The login answer carries the session's
 * CSRF token (also set as the readable `vigil_csrf` cookie) that the console echoes in `x-csrf-token`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PASSWORD_MAX_LENGTH } from '../../auth/bootstrap.js';
import { heldPermissions } from '../../auth/permissions.js';
import type { Principal } from '../../auth/principal.js';
import { CSRF_COOKIE, principalOf, SESSION_COOKIE } from '../auth-hook.js';
import type { ApiContext } from '../context.js';
import { errorResponses, ref } from '../schemas.js';

interface LoginBody {
  email: string;
  password: string;
}

const meSchema = {
  type: 'object',
  required: ['kind', 'org', 'permissions'],
  properties: {
    kind: { type: 'string', enum: ['user', 'token'] },
    org: ref('Org'),
    user: ref('User'),
    token: ref('Token'),
    permissions: { type: 'array', items: { type: 'string' } },
  },
} as const;

function me(principal: Principal) {
  return {
    kind: principal.kind,
    org: principal.org,
    ...(principal.kind === 'user' ? { user: principal.user } : { token: principal.token }),
    permissions: heldPermissions(principal),
  };
}

function cookieOptions(ctx: ApiContext, request: FastifyRequest, httpOnly: boolean) {
  return {
    path: '/',
    httpOnly,
    sameSite: 'lax' as const,
    secure: ctx.options.cookieSecure ?? request.protocol === 'https',
  };
}

function clearCookies(ctx: ApiContext, request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, cookieOptions(ctx, request, true));
  reply.clearCookie(CSRF_COOKIE, cookieOptions(ctx, request, false));
}

/** Registers the `/auth` routes. */
export function authRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: LoginBody }>(
    '/auth/login',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with email and password; sets the session cookie',
        security: [],
        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          properties: {
            email: { type: 'string', minLength: 3, maxLength: 320 },
            password: { type: 'string', minLength: 1, maxLength: PASSWORD_MAX_LENGTH },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['user', 'org', 'csrfToken'],
            properties: { user: ref('User'), org: ref('Org'), csrfToken: { type: 'string' } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { principal, secret } = await ctx.auth.login({
        email: request.body.email,
        password: request.body.password,
        address: request.ip,
      });
      const { csrfToken } = principal.session;
      reply.setCookie(SESSION_COOKIE, secret, cookieOptions(ctx, request, true));
      reply.setCookie(CSRF_COOKIE, csrfToken, cookieOptions(ctx, request, false));
      return { user: principal.user, org: principal.org, csrfToken };
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { permission: 'self' },
      schema: {
        tags: ['auth'],
        summary: 'End the session and clear its cookies',
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const secret = request.cookies[SESSION_COOKIE];
      if (principal.kind === 'user' && secret !== undefined) await ctx.auth.logout(secret);
      clearCookies(ctx, request, reply);
      return reply.code(204).send();
    },
  );

  app.get(
    '/auth/me',
    {
      config: { permission: 'self' },
      schema: {
        tags: ['auth'],
        summary: 'The caller: user or token, organisation and the permissions held',
        response: { 200: meSchema, ...errorResponses },
      },
    },
    async (request) => me(principalOf(request)),
  );
}
