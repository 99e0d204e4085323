/**
 * Exit codes of the `vigil` command (documented in docs/cli.md). Findings above the threshold
 * exit with the user's `--exit-code`; errors use the fixed codes below.
 */
import { isEngineError, type EngineErrorCode } from '@vigil/engine/core';
import { isFleetError, type FleetErrorCode } from './fleet/errors.js';

export const EXIT = {
  ok: 0,
  /** unexpected internal error */
  internal: 1,
  /** invalid command line or options */
  usage: 2,
  /** the image or path does not exist */
  notFound: 4,
  /** registry refused our credentials */
  auth: 5,
  /** network: unreachable, timeout, rate limited, server errors */
  network: 6,
  /** the image is invalid, corrupt, unsupported or over a size limit */
  badImage: 7,
  /** vulnerability database or feed problem (missing, corrupt, locked, build failed, bad feed data) */
  db: 8,
  /** `vigil remote-scan`: the fleet's scan failed (or its image could not be resolved) */
  remoteFailed: 10,
  /** `vigil remote-scan`: the fleet's scan was cancelled */
  remoteCancelled: 11,
  /** `vigil remote-scan`: the scan did not finish within --timeout */
  remoteTimeout: 12,
  /** interrupted (SIGINT / abort) */
  aborted: 130,
} as const;

const BY_CODE: Partial<Record<EngineErrorCode, number>> = {
  ENG_INVALID_ARGUMENT: EXIT.usage,
  ENG_IMAGE_REF_INVALID: EXIT.usage,
  ENG_FORMAT_UNSUPPORTED: EXIT.usage,
  // an ignore file or VEX document the user gave is invalid: their input, like a bad flag
  ENG_POLICY_INVALID: EXIT.usage,
  ENG_CVSS_INVALID: EXIT.usage,
  ENG_VERSION_INVALID: EXIT.usage,
  ENG_ABORTED: EXIT.aborted,
  ENG_IMAGE_SOURCE_NOT_FOUND: EXIT.notFound,
  ENG_REGISTRY_NOT_FOUND: EXIT.notFound,
  ENG_REGISTRY_UNAUTHORIZED: EXIT.auth,
  ENG_REGISTRY_FORBIDDEN: EXIT.auth,
  ENG_CREDENTIALS_HELPER_FAILED: EXIT.auth,
  ENG_REGISTRY_RATE_LIMITED: EXIT.network,
  ENG_REGISTRY_SERVER_ERROR: EXIT.network,
  ENG_REGISTRY_UNREACHABLE: EXIT.network,
  ENG_REGISTRY_TIMEOUT: EXIT.network,
  ENG_REGISTRY_PROTOCOL: EXIT.network,
  ENG_REGISTRY_INSECURE_REFUSED: EXIT.network,
  // feeds and the vulnerability database (docs/errors.md): network problems are network, the rest db
  ENG_FEED_UNKNOWN: EXIT.usage,
  ENG_FEED_HTTP: EXIT.network,
  ENG_FEED_RATE_LIMITED: EXIT.network,
  ENG_FEED_TIMEOUT: EXIT.network,
  ENG_FEED_UNREACHABLE: EXIT.network,
  ENG_FEED_FORMAT: EXIT.db,
  ENG_FEED_TOO_LARGE: EXIT.db,
  ENG_DB_NOT_FOUND: EXIT.db,
  ENG_DB_CORRUPT: EXIT.db,
  ENG_DB_SCHEMA_UNSUPPORTED: EXIT.db,
  ENG_DB_LOCKED: EXIT.db,
  ENG_DB_BUILD_FAILED: EXIT.db,
  ENG_DB_EMPTY_INPUT: EXIT.db,
};

/** The CLI's errors as a client of a control plane (fleet/errors.ts, docs/errors.md). */
const BY_FLEET_CODE: Record<FleetErrorCode, number> = {
  CLI_SERVER_UNAUTHENTICATED: EXIT.auth,
  CLI_SERVER_FORBIDDEN: EXIT.auth,
  CLI_SERVER_UNREACHABLE: EXIT.network,
  CLI_SERVER_ERROR: EXIT.network,
  CLI_SERVER_REFUSED: EXIT.usage,
  CLI_SNAPSHOT_INVALID: EXIT.db,
  CLI_REMOTE_SCAN_FAILED: EXIT.remoteFailed,
  CLI_REMOTE_SCAN_CANCELLED: EXIT.remoteCancelled,
  CLI_REMOTE_SCAN_TIMEOUT: EXIT.remoteTimeout,
};

/** Exit code for an error thrown by a command. Engine errors not listed above are image problems. */
export function exitCodeFor(error: unknown): number {
  if (isFleetError(error)) return BY_FLEET_CODE[error.code];
  if (!isEngineError(error)) return EXIT.internal;
  return BY_CODE[error.code] ?? (error.code === 'ENG_CACHE_IO' ? EXIT.internal : EXIT.badImage);
}
