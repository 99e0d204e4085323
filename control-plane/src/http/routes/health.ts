/**
 * Operations endpoints, outside /api/v1 and without credentials: `/healthz` (the process answers), `/readyz`
 * (every dependency answers in time and the server is not draining; 503 CP_UNAVAILABLE naming what failed)
 * and `/metrics` (Prometheus text format).
 */
import type { FastifyInstance } from 'fastify';
import { metricsRegistry } from '../../metrics.js';
import { errorSchema } from '../schemas.js';

/** A dependency `/readyz` checks: resolves when reachable, rejects (or times out) when not. */
export type ReadinessCheck = () => Promise<unknown>;

export interface HealthOptions {
  /** named checks, e.g. `{ postgres, analytics, queue }` */
  checks: Readonly<Record<string, ReadinessCheck>>;
  /** true once shutdown began: /readyz answers 503 so load balancers stop sending traffic */
  isDraining: () => boolean;
  timeoutMs: number;
}

const checkResults = {
  type: 'object',
  additionalProperties: { type: 'string', enum: ['ok', 'failed', 'timeout'] },
} as const;

function withTimeout(check: ReadinessCheck, ms: number): Promise<'ok' | 'failed' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const run = Promise.resolve()
    .then(check)
    .then(
      () => 'ok' as const,
      () => 'failed' as const,
    );
  return Promise.race([run, timeout]).finally(() => clearTimeout(timer));
}

/** Registers `/healthz`, `/readyz` and `/metrics`. */
export function healthRoutes(app: FastifyInstance, options: HealthOptions): void {
  const config = { permission: 'public' } as const;
  app.get(
    '/healthz',
    {
      config,
      schema: {
        tags: ['operations'],
        security: [],
        summary: 'The process is up',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config,
      schema: {
        tags: ['operations'],
        security: [],
        summary: 'Every dependency is reachable and the server is not draining',
        response: {
          200: { type: 'object', properties: { status: { type: 'string' }, checks: checkResults } },
          503: {
            type: 'object',
            required: ['code', 'message'],
            properties: { ...errorSchema.properties, checks: checkResults },
          },
        },
      },
    },
    async (request, reply) => {
      const names = Object.keys(options.checks);
      const results = await Promise.all(names.map((n) => withTimeout(options.checks[n]!, options.timeoutMs)));
      const checks = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
      const failed = names.filter((n) => checks[n] !== 'ok');
      if (options.isDraining() || failed.length > 0) {
        const message = options.isDraining() ? 'draining for shutdown' : `not ready: ${failed.join(', ')}`;
        if (failed.length > 0) request.log.warn({ checks }, 'readiness check failed');
        return reply.code(503).send({ code: 'CP_UNAVAILABLE', message, checks });
      }
      return { status: 'ready', checks };
    },
  );

  app.get(
    '/metrics',
    {
      config,
      schema: { tags: ['operations'], security: [], summary: 'Prometheus metrics', produces: ['text/plain'] },
    },
    async (_request, reply) => reply.type(metricsRegistry.contentType).send(await metricsRegistry.metrics()),
  );
}
