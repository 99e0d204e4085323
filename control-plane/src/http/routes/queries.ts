/**
 * Questions across the organisation's images: the dashboard summary and "which images have CVE-X" (the
 * vulnerability database's own routes are in db.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { ImageViewFilter } from '../../services/api.js';
import { principalOf } from '../auth-hook.js';
import type { ApiContext } from '../context.js';
import {
  cursor,
  errorResponses,
  imageFilterProperties,
  limit,
  pageOf,
  ref,
  severityCounts,
  vulnerabilityId,
} from '../schemas.js';

const config = { permission: 'read' } as const;
const count = { type: 'integer' } as const;

/** Registers `/summary` and `/vulnerabilities/{id}/images`. */
export function queryRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: ImageViewFilter }>(
    '/summary',
    {
      config,
      schema: {
        tags: ['images'],
        summary: 'Totals over the latest completed scan of every (matching) image',
        querystring: { type: 'object', properties: imageFilterProperties },
        response: {
          200: {
            type: 'object',
            required: ['images', 'scannedImages', 'counts', 'fixable'],
            properties: {
              images: count,
              scannedImages: count,
              counts: severityCounts,
              fixable: count,
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => ctx.queries.summary(principalOf(request).org.id, request.query),
  );

  app.get<{ Params: { id: string }; Querystring: { cursor?: string; limit?: number } }>(
    '/vulnerabilities/:id/images',
    {
      config,
      schema: {
        tags: ['vulnerabilities'],
        summary: 'Images whose latest completed scan has a finding with this id or alias',
        params: { type: 'object', required: ['id'], properties: { id: vulnerabilityId } },
        querystring: { type: 'object', properties: { cursor, limit } },
        response: {
          200: pageOf({
            type: 'object',
            required: ['image', 'findings'],
            properties: { image: ref('Image'), findings: { type: 'array', items: ref('Finding') } },
          }),
          ...errorResponses,
        },
      },
    },
    async (request) =>
      ctx.queries.vulnerableImages(principalOf(request).org.id, request.params.id, request.query),
  );
}
