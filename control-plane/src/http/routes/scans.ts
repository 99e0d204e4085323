/**
 * `/scans`: request a scan of one image (by reference or id), read and cancel it, watch it as server-sent
 * events; bulk rescans of listed images or of every image matching a filter, their progress and cancellation.
 */
import type { FastifyInstance } from 'fastify';
import { actorOf, type Principal } from '../../auth/principal.js';
import { ControlPlaneError } from '../../errors.js';
import { scansRequested } from '../../metrics.js';
import type { ImageViewFilter, ScanTarget } from '../../services/api.js';
import type { ScanPriority } from '../../services/types.js';
import { MAX_SCAN_WAIT_SECONDS, waitForScan } from '../../services/wait.js';
import { principalOf } from '../auth-hook.js';
import type { ApiContext } from '../context.js';
import {
  errorResponses,
  idParams,
  imageFilterProperties,
  MAX_BULK_IDS,
  ref,
  scanPriority,
  UUID_PATTERN,
  uuid,
} from '../schemas.js';
import { streamScanEvents } from '../sse.js';

const tags = ['scans'];

interface ScanBody {
  image?: string;
  imageId?: string;
  priority?: ScanPriority;
  force?: boolean;
}

interface BulkBody {
  imageIds?: string[];
  filter?: ImageViewFilter;
  priority?: ScanPriority;
  force?: boolean;
}

/** A scan requested by a person is `manual`, by a CI token `ci`, unless the request says otherwise. */
function defaultPriority(principal: Principal): ScanPriority {
  return principal.kind === 'user' ? 'manual' : 'ci';
}

function scanTarget(body: ScanBody): ScanTarget {
  if ((body.image === undefined) === (body.imageId === undefined)) {
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'body must have exactly one of image, imageId');
  }
  if (body.imageId !== undefined) return { imageId: body.imageId };
  // `image` may also carry an image id, as CreateScan's `image` field does over gRPC.
  return UUID_PATTERN.test(body.image!) ? { imageId: body.image! } : { reference: body.image! };
}

const scanResponse = {
  type: 'object',
  required: ['scan', 'created', 'image'],
  properties: {
    scan: ref('Scan'),
    created: { type: 'boolean', description: 'false: an active scan of the same digest and DB version' },
    image: ref('Image'),
  },
} as const;

/** Registers the `/scans` routes. */
export function scanRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: ScanBody }>(
    '/scans',
    {
      config: { permission: 'scan.create' },
      schema: {
        tags,
        summary:
          'Scan an image, by reference (repo:tag, repo@digest) or id; one scan per digest and DB version',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            image: { type: 'string', minLength: 1, maxLength: 512, description: 'image reference or id' },
            imageId: uuid,
            priority: scanPriority,
            force: { type: 'boolean', description: 'scan even if an active scan exists' },
          },
        },
        response: { 200: scanResponse, 201: scanResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const priority = request.body.priority ?? defaultPriority(principal);
      const result = await ctx.scans.requestScan(
        principal.org.id,
        { target: scanTarget(request.body), priority, force: request.body.force ?? false },
        actorOf(principal),
      );
      scansRequested.inc({ priority, created: String(result.created) });
      return reply.code(result.created ? 201 : 200).send(result);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { wait?: number } }>(
    '/scans/:id',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        summary:
          'One scan; with `wait`, answered once it is completed, failed or cancelled, or the wait elapsed',
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            wait: {
              type: 'integer',
              minimum: 0,
              description: `long poll: seconds to wait for a final status (at most ${MAX_SCAN_WAIT_SECONDS}; more is cut to it)`,
            },
          },
        },
        response: { 200: ref('Scan'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const orgId = principalOf(request).org.id;
      const waitMs = Math.min(request.query.wait ?? 0, MAX_SCAN_WAIT_SECONDS) * 1000;
      // a caller that goes away stops the wait (the response closes before it was sent)
      const gone = new AbortController();
      const onClose = (): void => gone.abort();
      reply.raw.once('close', onClose);
      const scan = await waitForScan(ctx.scans, orgId, request.params.id, waitMs, gone.signal).finally(() =>
        reply.raw.off('close', onClose),
      );
      if (!scan) throw new ControlPlaneError('CP_NOT_FOUND', `scan ${request.params.id} not found`);
      return scan;
    },
  );

  app.post<{ Params: { id: string } }>(
    '/scans/:id/cancel',
    {
      config: { permission: 'scan.cancel' },
      schema: {
        tags,
        summary: 'Cancel a queued or running scan',
        params: idParams,
        response: { 200: ref('Scan'), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return ctx.scans.cancelScan(principal.org.id, request.params.id, actorOf(principal));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/scans/:id/events',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        summary: 'Server-sent events of a scan: status and progress until it finishes',
        params: idParams,
        produces: ['text/event-stream'],
        response: { 200: { type: 'string', description: 'text/event-stream' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const orgId = principalOf(request).org.id;
      const scan = await ctx.scans.getScan(orgId, request.params.id);
      if (!scan) throw new ControlPlaneError('CP_NOT_FOUND', `scan ${request.params.id} not found`);
      await streamScanEvents(request, reply, {
        scans: ctx.scans,
        orgId,
        scanId: scan.id,
        heartbeatMs: ctx.options.sseHeartbeatMs,
      });
    },
  );

  app.post<{ Body: BulkBody }>(
    '/scans/bulk',
    {
      config: { permission: 'scan.bulk' },
      schema: {
        tags,
        summary: 'Rescan listed images or every image matching a filter, as one batch',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            imageIds: { type: 'array', items: uuid, minItems: 1, maxItems: MAX_BULK_IDS },
            filter: { type: 'object', additionalProperties: false, properties: imageFilterProperties },
            priority: scanPriority,
            force: { type: 'boolean' },
          },
        },
        response: { 202: ref('Batch'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { imageIds, filter } = request.body;
      if ((imageIds === undefined) === (filter === undefined)) {
        throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'body must have exactly one of imageIds, filter');
      }
      const batch = await ctx.scans.bulkScan(
        principal.org.id,
        {
          ...(imageIds ? { imageIds } : { filter: filter! }),
          priority: request.body.priority ?? 'scheduled',
          force: request.body.force ?? false,
        },
        actorOf(principal),
      );
      return reply.code(202).send(batch);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/scans/bulk/:id',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        summary: 'A batch and its progress',
        params: idParams,
        response: { 200: ref('Batch'), ...errorResponses },
      },
    },
    async (request) => {
      const batch = await ctx.scans.getBatch(principalOf(request).org.id, request.params.id);
      if (!batch) throw new ControlPlaneError('CP_NOT_FOUND', `batch ${request.params.id} not found`);
      return batch;
    },
  );

  app.post<{ Params: { id: string } }>(
    '/scans/bulk/:id/cancel',
    {
      config: { permission: 'scan.cancel' },
      schema: {
        tags,
        summary: 'Cancel every queued or running scan of a batch',
        params: idParams,
        response: { 200: ref('Batch'), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return ctx.scans.cancelBatch(principal.org.id, request.params.id, actorOf(principal));
    },
  );
}
