/**
 * `/users`: the organisation's accounts (admins only). Creating a user, changing a role and setting a password
 * are audited; a new password ends the user's other sessions.
 */
import type { FastifyInstance } from 'fastify';
import { checkPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../auth/bootstrap.js';
import { actorOf } from '../../auth/principal.js';
import { ControlPlaneError } from '../../errors.js';
import type { Role, UserRecord } from '../../services/types.js';
import { hashPassword } from '../../store/credentials.js';
import { principalOf } from '../auth-hook.js';
import type { ApiContext } from '../context.js';
import { errorResponses, idParams, ref, role } from '../schemas.js';

const password = { type: 'string', minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH } as const;
const tags = ['users'];

interface CreateBody {
  email: string;
  role: Role;
  displayName?: string;
  password?: string;
}

interface UpdateBody {
  role?: Role;
  password?: string;
}

/** Registers the `/users` routes. */
export function userRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const config = { permission: 'users.manage' } as const;

  const found = async (orgId: string, id: string): Promise<UserRecord> => {
    const user = await ctx.orgs.getUser(orgId, id);
    if (!user) throw new ControlPlaneError('CP_NOT_FOUND', `user ${id} not found`);
    return user;
  };

  app.get(
    '/users',
    {
      config,
      schema: {
        tags,
        summary: "The organisation's users, by email",
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: ref('User') } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => ({ items: await ctx.orgs.listUsers(principalOf(request).org.id) }),
  );

  app.post<{ Body: CreateBody }>(
    '/users',
    {
      config,
      schema: {
        tags,
        summary: 'Create a user (without a password the user cannot sign in until one is set)',
        body: {
          type: 'object',
          required: ['email', 'role'],
          additionalProperties: false,
          properties: {
            email: { type: 'string', format: 'email', maxLength: 320 },
            role,
            displayName: { type: 'string', maxLength: 200 },
            password,
          },
        },
        response: { 201: ref('User'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { email, role: newRole, displayName, password: secret } = request.body;
      const user = await ctx.orgs.createUser(principal.org.id, {
        email,
        role: newRole,
        ...(displayName === undefined ? {} : { displayName }),
        passwordHash: secret === undefined ? null : await hashPassword(secret),
      });
      await ctx.audit.appendAudit(principal.org.id, {
        actor: actorOf(principal),
        action: 'user.create',
        target: { type: 'user', id: user.id },
        details: { role: user.role },
      });
      return reply.code(201).send(user);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/users/:id',
    {
      config,
      schema: {
        tags,
        summary: 'One user',
        params: idParams,
        response: { 200: ref('User'), ...errorResponses },
      },
    },
    async (request) => found(principalOf(request).org.id, request.params.id),
  );

  app.patch<{ Params: { id: string }; Body: UpdateBody }>(
    '/users/:id',
    {
      config,
      schema: {
        tags,
        summary: "Change a user's role or password (CP_LAST_ADMIN when no admin would be left)",
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { role, password },
        },
        response: { 200: ref('User'), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const orgId = principal.org.id;
      const { id } = request.params;
      const before = await found(orgId, id);
      const actor = actorOf(principal);
      let user = before;
      if (request.body.role !== undefined && request.body.role !== before.role) {
        user = await ctx.orgs.setUserRole(orgId, id, request.body.role);
        await ctx.audit.appendAudit(orgId, {
          actor,
          action: 'user.role_change',
          target: { type: 'user', id },
          details: { from: before.role, to: user.role },
        });
      }
      if (request.body.password !== undefined) {
        checkPassword(request.body.password);
        await ctx.orgs.setPasswordHash(orgId, id, await hashPassword(request.body.password));
        const keep = principal.kind === 'user' ? principal.session.idHash : undefined;
        await ctx.sessions.deleteForUser(orgId, id, keep);
        await ctx.audit.appendAudit(orgId, {
          actor,
          action: 'user.password_set',
          target: { type: 'user', id },
        });
      }
      return user;
    },
  );
}
