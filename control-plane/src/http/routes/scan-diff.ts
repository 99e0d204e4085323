/**
 * `GET /scans/{id}/diff`: the findings of a completed scan that are new since the previous completed scan of its
 * image (the same digest: a rescan, or a rematch against a newer database) and those resolved, each with why it
 * changed and, for a resolved one, the installed version that resolved it. Paged with a cursor (new entries
 * first, then resolved ones, each worst first); `counts` covers the whole diff.
 */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../auth-hook.js';
import type { ApiContext } from '../context.js';
import { cursor, errorResponses, idParams, limit, ref, severityCounts } from '../schemas.js';

const nullableString = { type: ['string', 'null'] } as const;

const newEntry = {
  type: 'object',
  required: ['finding', 'previousVersion', 'reason'],
  properties: {
    finding: ref('Finding'),
    previousVersion: {
      ...nullableString,
      description: "the package's version in the previous scan; null when it had no such package",
    },
    reason: { type: 'string', enum: ['package-added', 'version-changed', 'database-changed'] },
  },
} as const;

const resolvedEntry = {
  type: 'object',
  required: ['finding', 'installedVersion', 'removed', 'reason'],
  properties: {
    finding: { ...ref('Finding'), description: 'as the previous scan found it' },
    installedVersion: {
      ...nullableString,
      description:
        'the package\'s version in this scan, which resolved it ("Fixed In"; unchanged for database-changed); null when the package is gone',
    },
    removed: { type: 'boolean', description: 'the package is no longer in the image' },
    reason: { type: 'string', enum: ['package-removed', 'version-changed', 'database-changed'] },
  },
} as const;

/** Registers `GET /scans/:id/diff`. */
export function scanDiffRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { id: string }; Querystring: { cursor?: string; limit?: number } }>(
    '/scans/:id/diff',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['scans'],
        summary:
          "Findings new since the image's previous completed scan, and those resolved (with the version that resolved each)",
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { cursor, limit: { ...limit, description: 'entries per page (default 100)' } },
        },
        response: {
          200: {
            type: 'object',
            required: ['scan', 'previous', 'counts', 'new', 'resolved', 'nextCursor'],
            properties: {
              scan: ref('Scan'),
              previous: {
                anyOf: [ref('Scan'), { type: 'null' }],
                description: 'the scan compared against; null for the first completed scan of the image',
              },
              counts: {
                type: 'object',
                required: ['new', 'resolved'],
                properties: { new: severityCounts, resolved: severityCounts },
                description: 'over the whole diff, not this page',
              },
              new: { type: 'array', items: newEntry },
              resolved: { type: 'array', items: resolvedEntry },
              nextCursor: nullableString,
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) =>
      ctx.queries.scanDiff(principalOf(request).org.id, request.params.id, {
        cursor: request.query.cursor ?? null,
        ...(request.query.limit !== undefined ? { limit: request.query.limit } : {}),
      }),
  );
}
