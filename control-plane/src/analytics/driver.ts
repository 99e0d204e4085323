/**
 * The driver seam of the analytics store: everything above it (migrations, the store, the seeder, benches) speaks
 * this small interface, so embedded chdb (all-in-one) and a ClickHouse server over HTTP (fleet) run the same SQL.
 * Values always travel as server-side query parameters (`{name:Type}` placeholders, substituted by ClickHouse
 * after parsing), never spliced into SQL text. Driver errors are classified here, once, into CP_ codes
 * (ClickHouse error codes: https://github.com/ClickHouse/ClickHouse/blob/master/src/Common/ErrorCodes.cpp).
 */
import { ControlPlaneError, isControlPlaneError } from '../errors.js';

/** Values of `{name:Type}` placeholders: strings, numbers, booleans, bigints and arrays of them. */
export type QueryParams = Readonly<Record<string, unknown>>;

/** One JSON row as ClickHouse prints it (JSONEachRow: 64-bit integers arrive as strings). */
export type Row = Record<string, unknown>;

export interface ClickHouseDriver {
  /** `chdb` (embedded, one data directory per process) or `http` (a ClickHouse server). */
  readonly kind: 'chdb' | 'http';
  /** One statement without a result (DDL, DELETE, INSERT … SELECT). Rejects with a ControlPlaneError. */
  exec(statement: string, params?: QueryParams): Promise<void>;
  /** One SELECT; its rows as objects (JSONEachRow). Rejects with a ControlPlaneError. */
  query<R extends Row = Row>(sql: string, params?: QueryParams): Promise<R[]>;
  /** Inserts rows (JSONEachRow, omitted columns take their defaults) in one INSERT. A no-op for no rows. */
  insert(table: string, rows: readonly Row[]): Promise<void>;
  /** Releases the connection(s); later calls reject with CP_ANALYTICS_UNAVAILABLE. Idempotent. */
  close(): Promise<void>;
}

/** The error of any call on a closed driver. */
export function closedError(kind: ClickHouseDriver['kind']): ControlPlaneError {
  return new ControlPlaneError('CP_ANALYTICS_UNAVAILABLE', `the analytics store (${kind}) is closed`);
}

/** ClickHouse codes that mean "not now" rather than "wrong": overload, timeouts, network, auth, read-only. */
const UNAVAILABLE_CODES = new Set([
  159, // TIMEOUT_EXCEEDED
  160, // TOO_SLOW
  164, // READONLY
  192, // UNKNOWN_USER
  193, // WRONG_PASSWORD
  194, // REQUIRED_PASSWORD
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY
  252, // TOO_MANY_PARTS
  394, // QUERY_WAS_CANCELLED
  516, // AUTHENTICATION_FAILED
]);
/** Driver-level codes: chdb's typed errors (CHDB_*) and Node's socket errors (E*). */
const UNAVAILABLE_DRIVER_CODES = new Set(['CHDB_CONNECTION', 'CHDB_CLOSED', 'CHDB_TIMEOUT', 'CHDB_ABORT']);

/**
 * Maps a driver error to a ControlPlaneError (the original stays as `cause`): CP_ANALYTICS_UNAVAILABLE for
 * unreachable / overloaded / timed out / closed, CP_INVALID_ARGUMENT for a parameter value ClickHouse could not
 * bind, CP_ANALYTICS_ERROR for everything else. `what` names the operation for the message.
 */
export function classifyClickHouseError(err: unknown, what: string): ControlPlaneError {
  if (isControlPlaneError(err)) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    clickhouseCode?: unknown;
    message?: unknown;
  };
  const driverCode = typeof e.code === 'string' ? e.code : '';
  const chCode =
    typeof e.clickhouseCode === 'number'
      ? e.clickhouseCode
      : /^\d+$/.test(driverCode)
        ? Number(driverCode) // @clickhouse/client's ClickHouseError carries the code as a numeric string
        : undefined;
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  const options = { cause: err };
  if (
    (chCode !== undefined && UNAVAILABLE_CODES.has(chCode)) ||
    UNAVAILABLE_DRIVER_CODES.has(driverCode) ||
    /^E[A-Z_]+$/.test(driverCode) || // ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENOTFOUND, EAI_AGAIN…
    /^Timeout error|socket hang up/i.test(message)
  ) {
    return new ControlPlaneError(
      'CP_ANALYTICS_UNAVAILABLE',
      `analytics store unavailable (${what}): ${message}`,
      options,
    );
  }
  if (driverCode === 'CHDB_BIND') {
    return new ControlPlaneError('CP_INVALID_ARGUMENT', `invalid value (${what}): ${message}`, options);
  }
  return new ControlPlaneError('CP_ANALYTICS_ERROR', `analytics store error (${what}): ${message}`, options);
}

/** A short label of a statement for error messages: its first words (SQL text holds placeholders, no values). */
export function describeStatement(sql: string): string {
  const words = sql.trim().replace(/\s+/g, ' ');
  return words.length > 60 ? `${words.slice(0, 60)}…` : words;
}

/** Runs `fn`, rejecting with the classified error. */
export async function classified<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifyClickHouseError(err, what);
  }
}
