/**
 * Error code → gRPC status, in one table (STYLE §2.4 "edge mapping in one place each").
 *
 * A coded error (EngineError, ControlPlaneError) leaves a gRPC server as its mapped status, its
 * message as the status details and its code in the `vigil-error-code` trailer, so clients can
 * branch on the stable code instead of parsing text. Anything else becomes INTERNAL with a
 * constant message: internals never leak to callers.
 *
 * Status meanings follow https://grpc.io/docs/guides/status-codes/ — in particular a registry that
 * refuses the *worker's* credentials is PERMISSION_DENIED, never UNAUTHENTICATED, which is kept for
 * the caller's own missing or invalid credentials.
 */
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { isEngineError, type EngineErrorCode } from '@vigil/engine/core';
import { isControlPlaneError, type ControlPlaneErrorCode } from '../errors.js';

/** Trailer that carries the Vigil error code of a failed call. */
export const ERROR_CODE_TRAILER = 'vigil-error-code';

const {
  INVALID_ARGUMENT,
  NOT_FOUND,
  PERMISSION_DENIED,
  UNAUTHENTICATED,
  RESOURCE_EXHAUSTED,
  FAILED_PRECONDITION,
  ALREADY_EXISTS,
  ABORTED,
  UNAVAILABLE,
  CANCELLED,
  INTERNAL,
  DATA_LOSS,
} = status;

/** The gRPC status of every Vigil error code. Adding a code without a row is a type error. */
export const GRPC_STATUS_BY_CODE = {
  // control plane: requests
  CP_INVALID_ARGUMENT: INVALID_ARGUMENT,
  CP_CURSOR_INVALID: INVALID_ARGUMENT,
  CP_NOT_FOUND: NOT_FOUND,
  CP_CONFLICT: ALREADY_EXISTS,
  // control plane: accounts (another organisation's things are NOT_FOUND, never PERMISSION_DENIED)
  CP_UNAUTHENTICATED: UNAUTHENTICATED,
  CP_FORBIDDEN: PERMISSION_DENIED,
  CP_ENTITLEMENT_DISABLED: PERMISSION_DENIED,
  CP_LAST_ADMIN: FAILED_PRECONDITION,
  // control plane: scans
  CP_SCAN_TRANSITION_INVALID: FAILED_PRECONDITION,
  CP_SCAN_ATTEMPT_STALE: ABORTED,
  CP_SCAN_WORKER_LOST: INTERNAL,
  CP_SCAN_REPORT_TRUNCATED: DATA_LOSS,
  CP_SCAN_NOT_COMPLETED: FAILED_PRECONDITION,
  CP_IMAGE_UNRESOLVABLE: FAILED_PRECONDITION,
  CP_REPORT_INVALID: INVALID_ARGUMENT,
  // queue and analytics
  CP_QUEUE_UNAVAILABLE: UNAVAILABLE,
  CP_ANALYTICS_UNAVAILABLE: UNAVAILABLE,
  CP_ANALYTICS_ERROR: INTERNAL,
  // control plane: metadata database
  CP_DB_UNAVAILABLE: UNAVAILABLE,
  CP_DB_ERROR: INTERNAL,
  CP_DB_MIGRATION_INVALID: INTERNAL,
  CP_DB_MIGRATION_MODIFIED: INTERNAL,
  CP_DB_MIGRATION_FAILED: INTERNAL,
  // control plane: calls
  CP_CANCELLED: CANCELLED,
  CP_INTERNAL: INTERNAL,
  CP_PAYLOAD_TOO_LARGE: RESOURCE_EXHAUSTED,
  CP_UNSUPPORTED_MEDIA_TYPE: INVALID_ARGUMENT,
  CP_RATE_LIMITED: RESOURCE_EXHAUSTED,
  CP_CSRF: PERMISSION_DENIED,
  CP_UNAVAILABLE: UNAVAILABLE,
  // engine: input and options
  ENG_INVALID_ARGUMENT: INVALID_ARGUMENT,
  ENG_ABORTED: CANCELLED,
  // engine: the image asked for, and its content
  ENG_IMAGE_REF_INVALID: INVALID_ARGUMENT,
  ENG_IMAGE_SOURCE_NOT_FOUND: NOT_FOUND,
  ENG_IMAGE_FORMAT_UNKNOWN: INVALID_ARGUMENT,
  ENG_IMAGE_MANIFEST_INVALID: INVALID_ARGUMENT,
  ENG_IMAGE_MANIFEST_UNSUPPORTED: INVALID_ARGUMENT,
  ENG_IMAGE_MANIFEST_TOO_LARGE: INVALID_ARGUMENT,
  ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED: INVALID_ARGUMENT,
  ENG_IMAGE_PLATFORM_NOT_FOUND: NOT_FOUND,
  ENG_IMAGE_CONFIG_INVALID: INVALID_ARGUMENT,
  ENG_IMAGE_BLOB_MISSING: INVALID_ARGUMENT,
  ENG_DIGEST_INVALID: INVALID_ARGUMENT,
  ENG_DIGEST_MISMATCH: INVALID_ARGUMENT,
  ENG_IMAGE_ARCHIVE_CORRUPT: INVALID_ARGUMENT,
  // engine: registries (the worker's pull, not the caller's credentials)
  ENG_REGISTRY_UNAUTHORIZED: PERMISSION_DENIED,
  ENG_REGISTRY_FORBIDDEN: PERMISSION_DENIED,
  ENG_REGISTRY_NOT_FOUND: NOT_FOUND,
  ENG_REGISTRY_RATE_LIMITED: RESOURCE_EXHAUSTED,
  ENG_REGISTRY_SERVER_ERROR: UNAVAILABLE,
  ENG_REGISTRY_UNREACHABLE: UNAVAILABLE,
  ENG_REGISTRY_TIMEOUT: UNAVAILABLE,
  ENG_REGISTRY_PROTOCOL: UNAVAILABLE,
  ENG_REGISTRY_INSECURE_REFUSED: FAILED_PRECONDITION,
  ENG_CREDENTIALS_HELPER_FAILED: PERMISSION_DENIED,
  // engine: layers (decompression-bomb guards are resource limits)
  ENG_LAYER_CORRUPT: INVALID_ARGUMENT,
  ENG_LAYER_COMPRESSION_UNSUPPORTED: INVALID_ARGUMENT,
  ENG_LAYER_TOO_LARGE: RESOURCE_EXHAUSTED,
  ENG_IMAGE_TOO_LARGE: RESOURCE_EXHAUSTED,
  // engine: the service's own disk, output, feeds and database
  ENG_CACHE_IO: INTERNAL,
  ENG_FORMAT_UNSUPPORTED: INVALID_ARGUMENT,
  ENG_FEED_UNKNOWN: INVALID_ARGUMENT,
  ENG_FEED_HTTP: UNAVAILABLE,
  ENG_FEED_RATE_LIMITED: RESOURCE_EXHAUSTED,
  ENG_FEED_TIMEOUT: UNAVAILABLE,
  ENG_FEED_UNREACHABLE: UNAVAILABLE,
  ENG_FEED_FORMAT: UNAVAILABLE,
  ENG_FEED_TOO_LARGE: UNAVAILABLE,
  ENG_DB_NOT_FOUND: UNAVAILABLE,
  ENG_DB_CORRUPT: INTERNAL,
  ENG_DB_SCHEMA_UNSUPPORTED: FAILED_PRECONDITION,
  ENG_DB_LOCKED: UNAVAILABLE,
  ENG_DB_BUILD_FAILED: INTERNAL,
  ENG_DB_EMPTY_INPUT: INVALID_ARGUMENT,
  // engine: values inside requests and uploads
  ENG_CVSS_INVALID: INVALID_ARGUMENT,
  ENG_VERSION_INVALID: INVALID_ARGUMENT,
  ENG_POLICY_INVALID: INVALID_ARGUMENT,
  ENG_SBOM_INVALID: INVALID_ARGUMENT,
} as const satisfies Record<ControlPlaneErrorCode | EngineErrorCode, status>;

/** Every code the table knows. */
export type VigilErrorCode = keyof typeof GRPC_STATUS_BY_CODE;

/** A status a grpc-js server can send: `{ code, details, metadata }` (also a valid ServiceError shape). */
export type CallStatus = Pick<StatusObject, 'code' | 'details'> & { metadata: Metadata };

/** Message sent for errors that are not coded (bugs): the real error stays in the server's log. */
export const INTERNAL_ERROR_MESSAGE = 'internal error';

function isCodedError(error: unknown): error is { code: VigilErrorCode; message: string } {
  return (isControlPlaneError(error) || isEngineError(error)) && error.code in GRPC_STATUS_BY_CODE;
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** True for errors toCallStatus reports as INTERNAL with a constant message: bugs to log. */
export function isUnexpectedError(error: unknown): boolean {
  return !isCodedError(error) && !isAbortError(error);
}

/**
 * The status to send for a thrown value: coded errors by the table, an AbortError (the call was
 * cancelled while a handler waited) as CANCELLED, anything else as INTERNAL with a constant message.
 */
export function toCallStatus(error: unknown): CallStatus {
  let code: VigilErrorCode;
  let details: string;
  if (isCodedError(error)) {
    code = error.code;
    details = error.message;
  } else if (isAbortError(error)) {
    code = 'CP_CANCELLED';
    details = 'call cancelled';
  } else {
    code = 'CP_INTERNAL';
    details = INTERNAL_ERROR_MESSAGE;
  }
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_TRAILER, code);
  return { code: GRPC_STATUS_BY_CODE[code], details, metadata };
}

/**
 * The Vigil error code of a failed call, read from its `vigil-error-code` trailer; undefined for
 * errors that did not come from a Vigil server (a refused connection, a deadline).
 */
export function remoteErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('metadata' in error)) return undefined;
  const { metadata } = error as { metadata: unknown };
  if (!(metadata instanceof Metadata)) return undefined;
  const value = metadata.get(ERROR_CODE_TRAILER)[0];
  return typeof value === 'string' ? value : undefined;
}
