/**
 * The REST gateway's one error model (STYLE §2.4): every error answer is `{code, message}` with a stable code.
 * Coded errors map through one table to their HTTP status (the HTTP column of docs/errors.md, which a test
 * compares); Fastify's own request errors (validation, bad JSON, body size, media type) become CP_ codes; any
 * other error is a bug: 500 CP_INTERNAL with a constant message, the real error only in the log.
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { isEngineError } from '@vigil/engine/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isControlPlaneError, type ControlPlaneErrorCode } from '../errors.js';
import { GRPC_STATUS_BY_CODE } from '../grpc/status.js';

/** HTTP status of every control-plane code. Adding a code without a row is a type error. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<ControlPlaneErrorCode, number>> = {
  CP_INVALID_ARGUMENT: 400,
  CP_CURSOR_INVALID: 400,
  CP_NOT_FOUND: 404,
  CP_CONFLICT: 409,
  CP_UNAUTHENTICATED: 401,
  CP_FORBIDDEN: 403,
  CP_ENTITLEMENT_DISABLED: 403,
  CP_LAST_ADMIN: 409,
  CP_SCAN_TRANSITION_INVALID: 409,
  CP_SCAN_ATTEMPT_STALE: 409,
  CP_IMAGE_UNRESOLVABLE: 422,
  CP_REPORT_INVALID: 400,
  // recorded on scans, never answered to a call (docs: "—"); reaching the gateway would be a bug
  CP_SCAN_WORKER_LOST: 500,
  CP_SCAN_REPORT_TRUNCATED: 500,
  CP_SCAN_NOT_COMPLETED: 409,
  CP_QUEUE_UNAVAILABLE: 503,
  CP_ANALYTICS_UNAVAILABLE: 503,
  CP_ANALYTICS_ERROR: 500,
  CP_DB_UNAVAILABLE: 503,
  CP_DB_ERROR: 500,
  CP_DB_MIGRATION_INVALID: 500,
  CP_DB_MIGRATION_MODIFIED: 500,
  CP_DB_MIGRATION_FAILED: 500,
  CP_CANCELLED: 499,
  CP_INTERNAL: 500,
  CP_PAYLOAD_TOO_LARGE: 413,
  CP_UNSUPPORTED_MEDIA_TYPE: 415,
  CP_RATE_LIMITED: 429,
  CP_CSRF: 403,
  CP_UNAVAILABLE: 503,
};

/** Engine errors reaching the gateway (e.g. from report parsing) answer by their gRPC status class. */
const HTTP_STATUS_BY_GRPC: Partial<Record<grpcStatus, number>> = {
  [grpcStatus.INVALID_ARGUMENT]: 400,
  [grpcStatus.NOT_FOUND]: 404,
  [grpcStatus.PERMISSION_DENIED]: 403,
  [grpcStatus.RESOURCE_EXHAUSTED]: 429,
  [grpcStatus.FAILED_PRECONDITION]: 409,
  [grpcStatus.UNAVAILABLE]: 503,
  [grpcStatus.CANCELLED]: 499,
};

/** The body of every error answer. */
export interface ErrorBody {
  code: string;
  message: string;
}

export interface HttpError {
  status: number;
  body: ErrorBody;
  /** seconds for a Retry-After header */
  retryAfter?: number;
}

const INTERNAL: HttpError = {
  status: 500,
  body: { code: 'CP_INTERNAL', message: 'internal error' },
};

function fastifyRequestError(error: FastifyError): HttpError | null {
  const status = error.statusCode;
  if (error.validation) {
    return { status: 400, body: { code: 'CP_INVALID_ARGUMENT', message: error.message } };
  }
  if (status === undefined || status < 400 || status >= 500) return null;
  const code: ControlPlaneErrorCode =
    status === 413
      ? 'CP_PAYLOAD_TOO_LARGE'
      : status === 415
        ? 'CP_UNSUPPORTED_MEDIA_TYPE'
        : status === 404
          ? 'CP_NOT_FOUND'
          : 'CP_INVALID_ARGUMENT';
  return { status: HTTP_STATUS_BY_CODE[code], body: { code, message: error.message } };
}

/** The answer to a thrown value. */
export function toHttpError(error: unknown): HttpError {
  if (isControlPlaneError(error)) {
    const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    return {
      status: HTTP_STATUS_BY_CODE[error.code] ?? 500,
      body: { code: error.code, message: error.message },
      ...(typeof retryAfter === 'number' ? { retryAfter } : {}),
    };
  }
  if (isEngineError(error)) {
    const status = HTTP_STATUS_BY_GRPC[GRPC_STATUS_BY_CODE[error.code]] ?? 500;
    return { status, body: { code: error.code, message: error.message } };
  }
  if (error instanceof Error && 'statusCode' in error) {
    return fastifyRequestError(error as FastifyError) ?? INTERNAL;
  }
  return INTERNAL;
}

/** Sends an error answer (used by the error handler and by routes that answer before hijacking). */
export function sendError(reply: FastifyReply, error: HttpError): FastifyReply {
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  return reply.code(error.status).type('application/json; charset=utf-8').send(error.body);
}

/** Fastify error handler: the one place errors become answers. Server-side failures are logged with the error. */
export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const answer = toHttpError(error);
  if (answer.status >= 500) request.log.error({ err: error, code: answer.body.code }, 'request failed');
  return sendError(reply, answer);
}

/** Fastify not-found handler: unknown routes answer 404 CP_NOT_FOUND. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, {
    status: 404,
    body: { code: 'CP_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` },
  });
}
