/**
 * The control plane's API edge: the REST gateway (`buildApi`), the public gRPC services over the same service
 * layer and permission table (`grpcPublicServices`), and the logger factory with secret redaction.
 */
export { buildApi, type ApiDeps } from './app.js';
export { API_PREFIX, CSRF_COOKIE, SESSION_COOKIE } from './auth-hook.js';
export type { ApiOptions } from './context.js';
export { HTTP_STATUS_BY_CODE, toHttpError, type ErrorBody } from './errors.js';
export { createLogger, REDACT_PATHS, type LoggerConfig } from './logger.js';
export type { ReadinessCheck } from './routes/health.js';
export { grpcPublicServices, type PublicServicesDeps } from '../grpc/public-services.js';
