/**
 * The REST gateway: `buildApi(deps)` assembles a Fastify instance (not listening) with every /api/v1 route of
 * ARCHITECTURE §5 this release serves, the operations endpoints, and the OpenAPI 3 document (`/api/docs/json`,
 * UI at `/api/docs`) generated from the routes' JSON schemas. The composition root listens on it.
 *
 * Order matters and is fixed here: error model and validation first, then cookies, the shared schemas, the
 * OpenAPI generator (it records routes as they are added), the auth hook (it refuses routes without a
 * permission), and the routes.
 */
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createAuth, type Auth } from '../auth/authenticate.js';
import type { SessionStore } from '../auth/sessions.js';
import { httpRequestDuration } from '../metrics.js';
import type { QueryService, ScanService } from '../services/api.js';
import type { MetadataStores } from '../services/types.js';
import { API_PREFIX, installAuthHook, SESSION_COOKIE } from './auth-hook.js';
import type { ApiContext, ApiOptions } from './context.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { createLogger, lazyChildLogger } from './logger.js';
import { authRoutes } from './routes/auth.js';
import { dbRoutes, type DbRoutesDeps } from './routes/db.js';
import { rematchRoutes } from '../rematch/routes.js';
import type { Rematch } from '../rematch/service.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { imageRoutes } from './routes/images.js';
import { queryRoutes } from './routes/queries.js';
import { reportRoutes } from './routes/reports.js';
import { scanDiffRoutes } from './routes/scan-diff.js';
import { scanRoutes } from './routes/scans.js';
import { tokenRoutes } from './routes/tokens.js';
import { userRoutes } from './routes/users.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { schemaErrorFormatter, validatorCompiler } from './validation.js';

export interface ApiDeps {
  stores: Pick<MetadataStores, 'orgs' | 'audit'>;
  sessions: SessionStore;
  services: { scans: ScanService; queries: QueryService };
  /** default: createAuth over the stores and sessions */
  auth?: Auth;
  /** dependencies `/readyz` checks, by name (e.g. postgres, analytics, queue) */
  readiness?: Readonly<Record<string, ReadinessCheck>>;
  /** true once shutdown began (`/readyz` answers 503) */
  isDraining?: () => boolean;
  /** default: createLogger() (info, stdout, secrets redacted) */
  logger?: Logger;
  options?: ApiOptions;
  /** the database sync: snapshot downloads, updates and uploads (without it `/db` only reports) */
  db?: DbRoutesDeps;
  /** rematch of stored inventories: POST /db/rematch, GET /db/rematch/{id}, GET /scans/{id}/rematch */
  rematch?: Rematch;
}

const MiB = 1024 * 1024;

/** The REST gateway over the service layer and the account stores. Resolves once plugins are registered. */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const options = deps.options ?? {};
  const app = Fastify({
    loggerInstance: (deps.logger ?? createLogger()).child({ component: 'http' }),
    bodyLimit: options.bodyLimit ?? MiB,
    trustProxy: options.trustProxy ?? false,
    schemaErrorFormatter,
    // the router's own refusals (bad URL encoding, over-long path parameters) take the one error model too
    frameworkErrors: errorHandler,
    // request.log is made on first use (a pino child with redaction costs ~0.1 ms a request)
    childLoggerFactory: lazyChildLogger as never,
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  // JSON only: a text/plain body is refused with 415 instead of reaching validation as a string.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  await app.register(cookie);
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Vigil control plane',
        version: '1',
        description: 'Errors are `{code, message}`; codes are listed in docs/errors.md.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API token (vgl_…)' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  const auth = deps.auth ?? createAuth({ ...deps.stores, sessions: deps.sessions });
  installAuthHook(app, { auth, allowedOrigins: options.allowedOrigins ?? [] });
  app.addHook('onResponse', async (request, reply) => {
    httpRequestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  healthRoutes(app, {
    checks: deps.readiness ?? {},
    isDraining: deps.isDraining ?? (() => false),
    timeoutMs: options.readinessTimeoutMs ?? 2_000,
  });
  const ctx: ApiContext = {
    ...deps.stores,
    sessions: deps.sessions,
    auth,
    ...deps.services,
    options: {
      cookieSecure: options.cookieSecure,
      reportBodyLimit: options.reportBodyLimit ?? 64 * MiB,
      sseHeartbeatMs: options.sseHeartbeatMs ?? 15_000,
    },
  };
  await app.register(
    async (api) => {
      for (const routes of [
        authRoutes,
        queryRoutes,
        imageRoutes,
        scanRoutes,
        scanDiffRoutes,
        reportRoutes,
        userRoutes,
        tokenRoutes,
      ]) {
        routes(api, ctx);
      }
      dbRoutes(api, ctx, deps.db ?? null);
      if (deps.rematch) rematchRoutes(api, deps.rematch);
    },
    { prefix: API_PREFIX },
  );
  return app;
}
