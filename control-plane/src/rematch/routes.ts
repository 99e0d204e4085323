/**
 * REST routes of rematch (service.ts): POST /db/rematch starts a run against the current snapshot (db.manage),
 * GET /db/rematch/{id} shows a run's batch counts, GET /scans/{id}/rematch what a rematch scan found by
 * re-evaluation and resolved compared with the image's previous scan (an ordinary scan answers kind `scan`),
 * GET /images/{id}/rematch the same for the image's latest completed scan.
 */
import type { FastifyInstance } from 'fastify';
import { ControlPlaneError } from '../errors.js';
import { principalOf } from '../http/auth-hook.js';
import { errorResponses, idParams } from '../http/schemas.js';
import type { Rematch } from './service.js';

const change = {
  type: 'object',
  required: ['vulnerabilityId', 'packageName', 'installedVersion', 'severity'],
  properties: {
    vulnerabilityId: { type: 'string' },
    packageName: { type: 'string' },
    installedVersion: { type: 'string' },
    severity: { type: 'string' },
  },
} as const;

const scanRematch = {
  type: 'object',
  required: ['scanId', 'kind', 'dbVersion', 'previousScanId', 'found', 'resolved'],
  properties: {
    scanId: { type: 'string' },
    kind: { type: 'string', enum: ['scan', 'rematch'] },
    dbVersion: { type: ['string', 'null'] },
    previousScanId: { type: ['string', 'null'] },
    found: { type: 'array', items: change },
    resolved: { type: 'array', items: change },
  },
} as const;

const run = {
  type: 'object',
  required: ['id', 'dbVersion', 'trigger', 'images', 'batches'],
  properties: {
    id: { type: 'string' },
    dbVersion: { type: 'string' },
    trigger: { type: 'string', enum: ['snapshot', 'api'] },
    images: { type: 'integer' },
    batches: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    counts: {
      type: 'object',
      properties: {
        queued: { type: 'integer' },
        running: { type: 'integer' },
        completed: { type: 'integer' },
        failed: { type: 'integer' },
      },
    },
  },
} as const;

export function rematchRoutes(app: FastifyInstance, rematch: Rematch): void {
  app.post(
    '/db/rematch',
    {
      config: { permission: 'db.manage' },
      schema: {
        tags: ['admin'],
        summary:
          "Re-evaluate every image's latest stored inventory against the current snapshot (no image pull)",
        response: { 202: run, ...errorResponses },
      },
    },
    async (_request, reply) => {
      const started = await rematch.start('api');
      if (!started) throw new ControlPlaneError('CP_CONFLICT', 'a rematch of this snapshot exists');
      return reply.code(202).send(started);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/db/rematch/:id',
    {
      config: { permission: 'db.manage' },
      schema: {
        tags: ['admin'],
        summary: 'A rematch run: its snapshot version and its batches by status',
        params: idParams,
        response: { 200: run, ...errorResponses },
      },
    },
    async (request) => {
      const status = await rematch.runStatus(request.params.id);
      if (!status) throw new ControlPlaneError('CP_NOT_FOUND', `rematch run ${request.params.id} not found`);
      return status;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/images/:id/rematch',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['images'],
        summary:
          "What the image's latest completed scan found by re-evaluation and resolved, when it was a rematch",
        params: idParams,
        response: { 200: scanRematch, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const info = await rematch.imageRematch(principal.org.id, request.params.id);
      if (!info)
        throw new ControlPlaneError('CP_NOT_FOUND', `image ${request.params.id} not found or never scanned`);
      return info;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/scans/:id/rematch',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['scans'],
        summary:
          "A rematch scan's changes against the image's previous scan: found by re-evaluation (with the DB version) and resolved",
        params: idParams,
        response: { 200: scanRematch, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const info = await rematch.scanRematch(principal.org.id, request.params.id);
      if (!info) throw new ControlPlaneError('CP_NOT_FOUND', `scan ${request.params.id} not found`);
      return info;
    },
  );
}
