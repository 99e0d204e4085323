/**
 * `/images`: the organisation's images with their latest completed scan, sorted and filtered server-side with
 * keyset cursors, one image, and the findings of its latest completed scan.
 */
import type { Severity } from '@vigil/engine/core';
import type { FastifyInstance } from 'fastify';
import { ControlPlaneError } from '../../errors.js';
import type { ImageViewQuery } from '../../services/api.js';
import { principalOf } from '../auth-hook.js';
import type { ApiContext } from '../context.js';
import {
  cursor,
  errorResponses,
  idParams,
  imageFilterProperties,
  limit,
  pageOf,
  ref,
  severity,
  text,
} from '../schemas.js';

const tags = ['images'];
const config = { permission: 'read' } as const;

interface FindingsQuery {
  minSeverity?: Severity;
  fixable?: boolean;
  text?: string;
  cursor?: string;
  limit?: number;
}

/** Registers the `/images` routes. */
export function imageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: ImageViewQuery }>(
    '/images',
    {
      config,
      schema: {
        tags,
        summary:
          'Images, sorted (severity: critical count first, then high, …) and filtered, one page at a time',
        querystring: {
          type: 'object',
          properties: {
            sort: { type: 'string', enum: ['severity', 'lastScan', 'name'], default: 'severity' },
            order: { type: 'string', enum: ['asc', 'desc'] },
            ...imageFilterProperties,
            cursor,
            limit,
          },
        },
        response: { 200: pageOf(ref('Image')), ...errorResponses },
      },
    },
    async (request) => ctx.queries.listImages(principalOf(request).org.id, request.query),
  );

  app.get<{ Params: { id: string } }>(
    '/images/:id',
    {
      config,
      schema: {
        tags,
        summary: 'One image and its latest completed scan',
        params: idParams,
        response: { 200: ref('Image'), ...errorResponses },
      },
    },
    async (request) => {
      const image = await ctx.queries.getImage(principalOf(request).org.id, request.params.id);
      if (!image) throw new ControlPlaneError('CP_NOT_FOUND', `image ${request.params.id} not found`);
      return image;
    },
  );

  app.get<{ Params: { id: string }; Querystring: FindingsQuery }>(
    '/images/:id/findings',
    {
      config,
      schema: {
        tags,
        summary: "Findings of the image's latest completed scan (worst first)",
        params: idParams,
        querystring: {
          type: 'object',
          properties: { minSeverity: severity, fixable: { type: 'boolean' }, text, cursor, limit },
        },
        response: {
          200: {
            type: 'object',
            required: ['scanId', 'items', 'nextCursor'],
            properties: {
              scanId: { type: ['string', 'null'], description: 'null when the image was never scanned' },
              items: { type: 'array', items: ref('Finding') },
              nextCursor: { type: ['string', 'null'] },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const page = await ctx.queries.imageFindings(
        principalOf(request).org.id,
        request.params.id,
        request.query,
      );
      return { scanId: page.scanId, items: page.findings, nextCursor: page.nextCursor };
    },
  );
}
