/**
 * `POST /reports`: a CLI uploads the JSON report of a local scan (`vigil image … --server URL --token T`), which
 * is recorded as a completed scan of the image it names. Reports are large: this route has its own body limit.
 */
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../auth/principal.js';
import { principalOf } from '../auth-hook.js';
import type { ApiContext } from '../context.js';
import { errorResponses, ref } from '../schemas.js';

/** Registers `POST /reports`. */
export function reportRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: Record<string, unknown> }>(
    '/reports',
    {
      config: { permission: 'report.upload' },
      bodyLimit: ctx.options.reportBodyLimit,
      schema: {
        tags: ['scans'],
        summary: 'Upload a Vigil JSON report (schemaVersion 1) as a completed scan of its image',
        body: {
          type: 'object',
          required: ['schemaVersion'],
          description: 'the output of `vigil image … --format json`, unchanged',
          properties: { schemaVersion: { type: 'integer' } },
        },
        response: {
          201: {
            type: 'object',
            required: ['scan', 'image'],
            properties: { scan: ref('Scan'), image: ref('Image') },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const result = await ctx.scans.ingestReport(principal.org.id, request.body, actorOf(principal));
      return reply.code(201).send(result);
    },
  );
}
