/**
 * Coded engine errors. Every code is documented in docs/errors.md (a test checks both ways).
 * Codes are never reused; add new ones at the end of their group.
 */

const BRAND = Symbol.for('vigil.engine.error');

export const ENGINE_ERROR_CODES = [
  // input and options
  'ENG_INVALID_ARGUMENT',
  'ENG_ABORTED',
  // image references and sources
  'ENG_IMAGE_REF_INVALID',
  'ENG_IMAGE_SOURCE_NOT_FOUND',
  'ENG_IMAGE_FORMAT_UNKNOWN',
  'ENG_IMAGE_MANIFEST_INVALID',
  'ENG_IMAGE_MANIFEST_UNSUPPORTED',
  'ENG_IMAGE_MANIFEST_TOO_LARGE',
  'ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED',
  'ENG_IMAGE_PLATFORM_NOT_FOUND',
  'ENG_IMAGE_CONFIG_INVALID',
  'ENG_IMAGE_BLOB_MISSING',
  'ENG_DIGEST_INVALID',
  'ENG_DIGEST_MISMATCH',
  'ENG_IMAGE_ARCHIVE_CORRUPT',
  // registry
  'ENG_REGISTRY_UNAUTHORIZED',
  'ENG_REGISTRY_FORBIDDEN',
  'ENG_REGISTRY_NOT_FOUND',
  'ENG_REGISTRY_RATE_LIMITED',
  'ENG_REGISTRY_SERVER_ERROR',
  'ENG_REGISTRY_UNREACHABLE',
  'ENG_REGISTRY_TIMEOUT',
  'ENG_REGISTRY_PROTOCOL',
  'ENG_REGISTRY_INSECURE_REFUSED',
  'ENG_CREDENTIALS_HELPER_FAILED',
  // layers
  'ENG_LAYER_CORRUPT',
  'ENG_LAYER_COMPRESSION_UNSUPPORTED',
  'ENG_LAYER_TOO_LARGE',
  'ENG_IMAGE_TOO_LARGE',
  // cache
  'ENG_CACHE_IO',
  // output
  'ENG_FORMAT_UNSUPPORTED',
  // feeds
  'ENG_FEED_UNKNOWN',
  'ENG_FEED_HTTP',
  'ENG_FEED_RATE_LIMITED',
  'ENG_FEED_TIMEOUT',
  'ENG_FEED_UNREACHABLE',
  'ENG_FEED_FORMAT',
  'ENG_FEED_TOO_LARGE',
  // vulnerability database
  'ENG_DB_NOT_FOUND',
  'ENG_DB_CORRUPT',
  'ENG_DB_SCHEMA_UNSUPPORTED',
  'ENG_DB_LOCKED',
  'ENG_DB_BUILD_FAILED',
  'ENG_DB_EMPTY_INPUT',
  // CVSS
  'ENG_CVSS_INVALID',
  // versions
  'ENG_VERSION_INVALID',
  // CI policy inputs and SBOM input
  'ENG_POLICY_INVALID',
  'ENG_SBOM_INVALID',
] as const;

export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

/** Base class of every error the engine throws on purpose. `code` is stable and documented. */
export class EngineError extends Error {
  readonly code: EngineErrorCode;
  readonly [BRAND] = true;

  constructor(code: EngineErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isEngineError(value);
  }
}

/** True for any EngineError, also one thrown by another copy of the engine. */
export function isEngineError(value: unknown): value is EngineError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** Throws ENG_ABORTED when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new EngineError('ENG_ABORTED', 'operation aborted', { cause: signal.reason });
  }
}
