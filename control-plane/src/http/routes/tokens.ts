/**
 * `/tokens`: API tokens of the organisation (admins only). Creation answers the secret once — only its hash
 * is stored — and revocation is immediate. Both are audited.
 */
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../auth/principal.js';
import { ControlPlaneError } from '../../errors.js';
import type { TokenScope } from '../../services/types.js';
import { generateApiToken } from '../../store/credentials.js';
import { principalOf } from '../auth-hook.js';
import type { ApiContext } from '../context.js';
import { dateTime, errorResponses, idParams, ref, tokenScope } from '../schemas.js';

const tags = ['tokens'];

interface CreateBody {
  name: string;
  scopes: TokenScope[];
  expiresAt?: string;
}

/** Registers the `/tokens` routes. */
export function tokenRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const config = { permission: 'tokens.manage' } as const;

  app.get(
    '/tokens',
    {
      config,
      schema: {
        tags,
        summary: "The organisation's API tokens (never their secrets)",
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: ref('Token') } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => ({ items: await ctx.orgs.listTokens(principalOf(request).org.id) }),
  );

  app.post<{ Body: CreateBody }>(
    '/tokens',
    {
      config,
      schema: {
        tags,
        summary: 'Create an API token; the answer holds the secret, shown only this once',
        body: {
          type: 'object',
          required: ['name', 'scopes'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 },
            scopes: { type: 'array', items: tokenScope, minItems: 1, maxItems: 3, uniqueItems: true },
            expiresAt: dateTime,
          },
        },
        response: {
          201: {
            type: 'object',
            required: ['token', 'secret'],
            properties: {
              token: ref('Token'),
              secret: { type: 'string', description: 'send as "Authorization: Bearer <secret>"' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const expiresAt = request.body.expiresAt === undefined ? null : new Date(request.body.expiresAt);
      if (expiresAt && expiresAt.getTime() <= Date.now()) {
        throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'body/expiresAt must be in the future');
      }
      const { token: secret, hash, prefix } = generateApiToken();
      const token = await ctx.orgs.createToken(principal.org.id, {
        name: request.body.name,
        scopes: request.body.scopes,
        hash,
        prefix,
        createdBy: principal.kind === 'user' ? principal.user.id : null,
        expiresAt,
      });
      await ctx.audit.appendAudit(principal.org.id, {
        actor: actorOf(principal),
        action: 'token.create',
        target: { type: 'token', id: token.id },
        details: { name: token.name, scopes: token.scopes },
      });
      return reply.code(201).send({ token, secret });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/tokens/:id',
    {
      config,
      schema: {
        tags,
        summary: 'One API token',
        params: idParams,
        response: { 200: ref('Token'), ...errorResponses },
      },
    },
    async (request) => {
      const tokens = await ctx.orgs.listTokens(principalOf(request).org.id);
      const token = tokens.find((t) => t.id === request.params.id);
      if (!token) throw new ControlPlaneError('CP_NOT_FOUND', `token ${request.params.id} not found`);
      return token;
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/tokens/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Revoke an API token (idempotent)',
        params: idParams,
        response: { 200: ref('Token'), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const token = await ctx.orgs.revokeToken(principal.org.id, request.params.id);
      await ctx.audit.appendAudit(principal.org.id, {
        actor: actorOf(principal),
        action: 'token.revoke',
        target: { type: 'token', id: token.id },
      });
      return token;
    },
  );
}
