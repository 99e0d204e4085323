/**
 * What a failed scan reports and whether another attempt may succeed: engine errors keep their ENG_
 * code; the retryable ones are those of the network, the registry's own trouble (5xx, rate limits,
 * timeouts) and this worker's local state (its cache disk, its database), which a redelivery to
 * another worker can get past. A bad image, a missing one and refused credentials are final.
 */
import { isEngineError, type EngineErrorCode } from '@vigil/engine/core';
import { isWorkerError, type WorkerErrorCode } from '../errors.js';

/** The `failed` event of a Report stream. */
export interface Failure {
  code: EngineErrorCode | WorkerErrorCode;
  message: string;
  retryable: boolean;
}

/** Whether another attempt may succeed, per engine code (a new code without a row is a type error). */
export const RETRYABLE_ENGINE_CODES = {
  ENG_INVALID_ARGUMENT: false,
  // an abort the worker did not ask for (its own are cancel, timeout or shutdown)
  ENG_ABORTED: true,
  ENG_IMAGE_REF_INVALID: false,
  ENG_IMAGE_SOURCE_NOT_FOUND: false,
  ENG_IMAGE_FORMAT_UNKNOWN: false,
  ENG_IMAGE_MANIFEST_INVALID: false,
  ENG_IMAGE_MANIFEST_UNSUPPORTED: false,
  ENG_IMAGE_MANIFEST_TOO_LARGE: false,
  ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED: false,
  ENG_IMAGE_PLATFORM_NOT_FOUND: false,
  ENG_IMAGE_CONFIG_INVALID: false,
  ENG_IMAGE_BLOB_MISSING: false,
  ENG_DIGEST_INVALID: false,
  ENG_DIGEST_MISMATCH: false,
  ENG_IMAGE_ARCHIVE_CORRUPT: false,
  ENG_REGISTRY_UNAUTHORIZED: false,
  ENG_REGISTRY_FORBIDDEN: false,
  ENG_REGISTRY_NOT_FOUND: false,
  ENG_REGISTRY_RATE_LIMITED: true,
  ENG_REGISTRY_SERVER_ERROR: true,
  ENG_REGISTRY_UNREACHABLE: true,
  ENG_REGISTRY_TIMEOUT: true,
  ENG_REGISTRY_PROTOCOL: false,
  ENG_REGISTRY_INSECURE_REFUSED: false,
  ENG_CREDENTIALS_HELPER_FAILED: false,
  ENG_LAYER_CORRUPT: false,
  ENG_LAYER_COMPRESSION_UNSUPPORTED: false,
  ENG_LAYER_TOO_LARGE: false,
  ENG_IMAGE_TOO_LARGE: false,
  // this worker's disk: another worker may have room
  ENG_CACHE_IO: true,
  ENG_FORMAT_UNSUPPORTED: false,
  ENG_FEED_UNKNOWN: false,
  ENG_FEED_HTTP: true,
  ENG_FEED_RATE_LIMITED: true,
  ENG_FEED_TIMEOUT: true,
  ENG_FEED_UNREACHABLE: true,
  ENG_FEED_FORMAT: false,
  ENG_FEED_TOO_LARGE: false,
  // this worker's snapshot: another worker's may be fine
  ENG_DB_NOT_FOUND: true,
  ENG_DB_CORRUPT: true,
  ENG_DB_SCHEMA_UNSUPPORTED: true,
  ENG_DB_LOCKED: true,
  ENG_DB_BUILD_FAILED: true,
  ENG_DB_EMPTY_INPUT: false,
  ENG_CVSS_INVALID: false,
  ENG_VERSION_INVALID: false,
  ENG_POLICY_INVALID: false,
  ENG_SBOM_INVALID: false,
} as const satisfies Record<EngineErrorCode, boolean>;

const RETRYABLE_WORKER_CODES = {
  WRK_CONFIG_INVALID: false,
  WRK_SNAPSHOT_UNAVAILABLE: true,
  WRK_SNAPSHOT_INVALID: true,
  WRK_SCAN_TIMEOUT: true,
  WRK_IO: true,
  WRK_INTERNAL: false,
} as const satisfies Record<WorkerErrorCode, boolean>;

/** Node system errors of a machine in trouble (disk full, descriptors exhausted, a dropped socket). */
const TRANSIENT_SYSTEM_CODES = new Set([
  'ENOSPC',
  'EMFILE',
  'ENFILE',
  'EIO',
  'EAGAIN',
  'EBUSY',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
]);

/** Classifies an error thrown by a scan or a match. Never throws. */
export function classifyFailure(error: unknown): Failure {
  if (isEngineError(error)) {
    return { code: error.code, message: error.message, retryable: RETRYABLE_ENGINE_CODES[error.code] };
  }
  if (isWorkerError(error)) {
    return { code: error.code, message: error.message, retryable: RETRYABLE_WORKER_CODES[error.code] };
  }
  const message = error instanceof Error ? error.message : String(error);
  const systemCode = (error as { code?: unknown } | null)?.code;
  if (typeof systemCode === 'string' && TRANSIENT_SYSTEM_CODES.has(systemCode)) {
    return { code: 'WRK_IO', message: `${systemCode}: ${message}`, retryable: true };
  }
  return { code: 'WRK_INTERNAL', message: `unexpected error: ${message}`, retryable: false };
}
