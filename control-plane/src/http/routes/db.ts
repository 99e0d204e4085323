/**
 * `/db`: the vulnerability database. `GET /db` shows the current snapshot (version, age, per-source freshness and
 * last errors) and, with the sync running, its last attempt; `POST /db/update` (db.manage) starts an update now;
 * `GET /db/snapshot` (the current one) and `GET /db/snapshots/{version}` serve the snapshot file with ETag,
 * Range and conditional GET, to workers (the worker token) and CLIs (an API token with the read scope);
 * `PUT /db/snapshot` (db.manage) uploads a snapshot built elsewhere (air-gapped sites), which becomes current.
 */
import { createReadStream } from 'node:fs';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '../../auth/authenticate.js';
import { authorize } from '../../auth/permissions.js';
import { ControlPlaneError } from '../../errors.js';
import { isVersion, planFileResponse, type DbSync, type PublishedSnapshot } from '../../vulndb-sync/index.js';
import type { ApiContext } from '../context.js';
import { dateTime, errorResponses } from '../schemas.js';

/** What the file, update and upload routes need; without it only `GET /db` is served. */
export interface DbRoutesDeps {
  sync: DbSync;
  /** the worker token: workers download snapshots with it */
  workerToken: string;
  /** largest upload in bytes (default 8 GiB) */
  uploadLimit?: number;
}

const count = { type: 'integer' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const nullableDate = { ...dateTime, type: ['string', 'null'] } as const;
const nullableSeconds = { type: ['integer', 'null'] } as const;
const SNAPSHOT_TYPES = ['application/vnd.sqlite3', 'application/octet-stream'];

const attemptSchema = {
  type: ['object', 'null'],
  properties: {
    trigger: { type: 'string', enum: ['schedule', 'request', 'drop', 'upload'] },
    startedAt: dateTime,
    finishedAt: nullableDate,
    outcome: { type: 'string', enum: ['running', 'updated', 'unchanged', 'partial', 'failed'] },
    previousVersion: nullableString,
    version: nullableString,
    error: {
      type: ['object', 'null'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
    feeds: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          status: { type: 'string', enum: ['unchanged', 'updated', 'failed'] },
          error: nullableString,
        },
      },
    },
  },
} as const;

const dbSchema = {
  type: 'object',
  required: ['version', 'builtAt', 'ageSeconds', 'sources'],
  properties: {
    version: { type: 'string' },
    builtAt: nullableDate,
    ageSeconds: nullableSeconds,
    sources: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          updatedAt: nullableDate,
          ageSeconds: { ...nullableSeconds, description: 'since the source last changed' },
          checkedAt: { ...nullableDate, description: 'when the source was last checked upstream' },
          lastError: { ...nullableString, description: 'its last failure; its previous data stays in use' },
          records: count,
        },
      },
    },
    snapshot: {
      type: 'object',
      description: 'the file served at /db/snapshot',
      properties: {
        sha256: { type: 'string' },
        size: count,
        origin: { type: 'string', enum: ['seed', 'update', 'import', 'upload'] },
        publishedAt: dateTime,
      },
    },
    sync: {
      type: 'object',
      properties: {
        running: { type: 'boolean' },
        intervalSeconds: nullableSeconds,
        nextRunAt: nullableDate,
        lastAttempt: attemptSchema,
        lastSuccessAt: nullableDate,
      },
    },
  },
} as const;

const fileResponses = {
  200: {
    description: 'the snapshot file (SQLite); ETag is the quoted version, `X-Vigil-Db-Sha256` its SHA-256',
    content: { 'application/vnd.sqlite3': { schema: { type: 'string', format: 'binary' } } },
  },
  206: { description: 'the requested byte range', content: { 'application/vnd.sqlite3': { schema: {} } } },
  304: { description: 'If-None-Match named this version', type: 'null' },
  ...errorResponses,
};

const digestOf = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Registers `/db`, and with `deps` the update, file and upload routes. */
export function dbRoutes(app: FastifyInstance, ctx: ApiContext, deps: DbRoutesDeps | null): void {
  app.get(
    '/db',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['admin'],
        summary: 'The vulnerability database: version, age, per-source freshness, and the last sync attempt',
        response: { 200: dbSchema, ...errorResponses },
      },
    },
    async () => {
      const info = await ctx.queries.dbInfo();
      const now = Date.now();
      const age = (d: Date | null) => (d ? Math.max(0, Math.floor((now - d.getTime()) / 1000)) : null);
      const current = deps?.sync.current();
      const sync = deps ? await deps.sync.status() : null;
      const sources = new Map(current?.meta.sources.map((s) => [s.name, s]));
      // a feed that failed in the last attempt left no trace in the served snapshot (its version did not change)
      const failed = new Map(
        sync?.lastAttempt?.feeds.filter((f) => f.status === 'failed').map((f) => [f.name, f.error]),
      );
      return {
        version: info.version,
        builtAt: info.builtAt,
        ageSeconds: age(info.builtAt),
        sources: info.sources.map((s) => ({
          ...s,
          ageSeconds: age(s.updatedAt),
          checkedAt: sources.get(s.name)?.checkedAt ?? null,
          lastError: failed.get(s.name) ?? sources.get(s.name)?.lastError ?? null,
        })),
        ...(current && sync ? { snapshot: current.manifest, sync } : {}),
      };
    },
  );
  if (deps) void app.register((scope) => fileRoutes(scope, ctx, deps));
}

/** The routes over the sync, in their own scope (the upload's body parser applies to them only). */
async function fileRoutes(app: FastifyInstance, ctx: ApiContext, deps: DbRoutesDeps): Promise<void> {
  const workerToken = digestOf(deps.workerToken);
  /** The worker token, or an API token with the read scope (`Authorization: Bearer …`). */
  const canDownload = async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const token = bearerToken(Array.isArray(header) ? header[0] : header);
    if (token === null) {
      throw new ControlPlaneError(
        'CP_UNAUTHENTICATED',
        'send "Authorization: Bearer <worker token or API token>"',
      );
    }
    // equal-length digests: the comparison time says nothing about the token
    if (timingSafeEqual(digestOf(token), workerToken)) return;
    authorize(await ctx.auth.authenticateToken(token), 'read');
  };
  const download = { config: { permission: 'public' as const }, preHandler: canDownload };
  const security = [{ bearer: [] }];

  app.get(
    '/db/snapshot',
    {
      ...download,
      schema: {
        tags: ['admin'],
        summary:
          'The current vulnerability database snapshot (worker token, or an API token with read scope)',
        security,
        response: fileResponses,
      },
    },
    // read afresh: a worker told of a new version by a replica must not get an older one from here
    async (request, reply) => sendFile(request, reply, await deps.sync.latest(), true),
  );

  app.get<{ Params: { version: string } }>(
    '/db/snapshots/:version',
    {
      ...download,
      schema: {
        tags: ['admin'],
        summary: 'One published snapshot by version (worker token, or an API token with read scope)',
        security,
        params: {
          type: 'object',
          required: ['version'],
          properties: { version: { type: 'string', minLength: 1, maxLength: 128 } },
        },
        response: fileResponses,
      },
    },
    async (request, reply) => {
      const { version } = request.params;
      const snapshot = isVersion(version) ? await deps.sync.published(version) : null;
      if (!snapshot) throw new ControlPlaneError('CP_NOT_FOUND', `no published snapshot ${version}`);
      return sendFile(request, reply, snapshot, false);
    },
  );

  app.post(
    '/db/update',
    {
      config: { permission: 'db.manage' },
      schema: {
        tags: ['admin'],
        summary: 'Start a vulnerability database update now; GET /db shows its outcome',
        response: {
          202: {
            type: 'object',
            required: ['status'],
            properties: { status: { type: 'string', enum: ['started'] } },
          },
          ...errorResponses,
        },
      },
    },
    async (_request, reply) => {
      await deps.sync.requestUpdate();
      return reply.code(202).send({ status: 'started' });
    },
  );

  app.addContentTypeParser(SNAPSHOT_TYPES, (_request, payload, done) => done(null, payload));
  app.put(
    '/db/snapshot',
    {
      config: { permission: 'db.manage' },
      bodyLimit: deps.uploadLimit ?? 8 * 1024 ** 3,
      // before the body is read: the app's JSON parser would otherwise take (and buffer) any JSON up to that limit
      onRequest: async (request) => {
        const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() ?? '';
        if (!SNAPSHOT_TYPES.includes(type)) {
          throw new ControlPlaneError(
            'CP_UNSUPPORTED_MEDIA_TYPE',
            `send the snapshot as ${SNAPSHOT_TYPES.join(' or ')}, not ${type || 'no content type'}`,
          );
        }
      },
      schema: {
        tags: ['admin'],
        summary: 'Upload a snapshot (`vigil db build --out FILE`); it is verified and becomes current',
        consumes: SNAPSHOT_TYPES,
        response: {
          201: {
            type: 'object',
            required: ['version', 'sha256', 'size', 'builtAt'],
            properties: {
              version: { type: 'string' },
              sha256: { type: 'string' },
              size: count,
              builtAt: dateTime,
              origin: { type: 'string' },
              publishedAt: dateTime,
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const manifest = await deps.sync.upload(
        request.body as AsyncIterable<Buffer>,
        deps.uploadLimit ?? 8 * 1024 ** 3,
      );
      return reply.code(201).send(manifest);
    },
  );
}

async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  snapshot: PublishedSnapshot,
  mutable: boolean,
): Promise<FastifyReply> {
  const header = (name: string): string | undefined => {
    const v = request.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const plan = planFileResponse(
    snapshot.manifest,
    { 'if-none-match': header('if-none-match'), range: header('range'), 'if-range': header('if-range') },
    mutable,
  );
  reply.code(plan.status).headers(plan.headers);
  if (plan.status === 416) {
    return reply
      .type('application/json')
      .send({ code: 'CP_INVALID_ARGUMENT', message: 'the range is past the end' });
  }
  if (!plan.range) return reply.send();
  return reply.send(createReadStream(snapshot.path, plan.range));
}
