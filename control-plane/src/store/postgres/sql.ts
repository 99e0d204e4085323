/**
 * The driver seam of the metadata stores: everything above it (migrations, store families, services) speaks
 * this small interface, so the fleet's `pg` pool and the all-in-one embedded Postgres run the same SQL.
 * Driver errors are classified here, once, into CP_ codes (SQLSTATE list:
 * https://www.postgresql.org/docs/current/errcodes-appendix.html).
 */
import pg from 'pg';
import { ControlPlaneError, isControlPlaneError } from '../../errors.js';

/** Rows of one statement. `rowCount` is the number of rows returned or affected. */
export interface SqlResult<R> {
  rows: R[];
  rowCount: number;
}

/** Runs statements on one connection or pool. Values are bound as `$1…$n`; never interpolate them. */
export interface SqlClient {
  /** One statement with bound parameters. Rejects with a ControlPlaneError. */
  query<R = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<SqlResult<R>>;
  /** A script of several statements without parameters (migrations). Rejects with a ControlPlaneError. */
  exec(script: string): Promise<void>;
}

/** A database: a client plus transactions and shutdown. */
export interface SqlDatabase extends SqlClient {
  /**
   * Runs `fn` in one transaction on one connection: committed when `fn` resolves, rolled back when it rejects
   * (the rejection is passed on). Nothing else may use the transaction client after `fn` settles.
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /** Closes every connection; later calls reject. */
  close(): Promise<void>;
}

/** Options of {@link createPgDatabase}. Timeouts are in milliseconds. */
export interface PgDatabaseOptions {
  connectionString: string;
  /** Pool size (default 10). */
  max?: number;
  /** Time to get a connection (default 5,000): a down server fails fast with CP_DB_UNAVAILABLE. */
  connectionTimeoutMillis?: number;
  /** Server-side cap per statement (default 30,000). */
  statementTimeoutMillis?: number;
  /** Called with errors of idle pooled connections (a server restart); the pool replaces them. */
  onIdleError?: (err: Error) => void;
  applicationName?: string;
  /** Schema for every connection (`search_path`), default the server's (`public`). Lower-case identifier. */
  schema?: string;
}

/** A pooled `pg` database. Connections are opened lazily; nothing is sent until the first query. */
export function createPgDatabase(options: PgDatabaseOptions): SqlDatabase {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
    throw new ControlPlaneError(
      'CP_INVALID_ARGUMENT',
      `schema ${JSON.stringify(options.schema)} is not a lower-case identifier`,
    );
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
    statement_timeout: options.statementTimeoutMillis ?? 30_000,
    idle_in_transaction_session_timeout: 60_000,
    application_name: options.applicationName ?? 'vigil-control-plane',
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client losing its server emits 'error' on the pool; without a listener that crashes the process.
  pool.on('error', (err) => options.onIdleError?.(err));
  return pgDatabase(pool);
}

/** Wraps an existing `pg` pool (owned by the caller until `close()`). */
export function pgDatabase(pool: pg.Pool): SqlDatabase {
  return {
    query: (text, values) => runQuery(pool, text, values),
    exec: (script) => runExec(pool, script),
    async transaction(fn) {
      const client = await pool.connect().catch((err: unknown) => {
        throw classifyDriverError(err);
      });
      let broken = false;
      // a connection lost mid-transaction (server restart, terminated backend) is emitted on the checked-out
      // client, where no pool listener is: without one it would crash the process; the pending query rejects anyway
      const lost = () => {
        broken = true;
      };
      client.on('error', lost);
      try {
        await runExec(client, 'BEGIN');
        const result = await fn({
          query: (text, values) => runQuery(client, text, values),
          exec: (s) => runExec(client, s),
        });
        await runExec(client, 'COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw err;
      } finally {
        client.off('error', lost);
        // A connection whose rollback failed or that was lost is in an unknown state: destroy it instead of pooling it.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

async function runQuery<R>(
  queryable: pg.Pool | pg.PoolClient,
  text: string,
  values?: readonly unknown[],
): Promise<SqlResult<R>> {
  try {
    const res = await queryable.query(text, values as unknown[] | undefined);
    return { rows: res.rows as R[], rowCount: res.rowCount ?? res.rows.length };
  } catch (err) {
    throw classifyDriverError(err);
  }
}

async function runExec(queryable: pg.Pool | pg.PoolClient, script: string): Promise<void> {
  try {
    // Without values pg uses the simple query protocol, which accepts several statements.
    await queryable.query(script);
  } catch (err) {
    throw classifyDriverError(err);
  }
}

const UNAVAILABLE_STATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '57014', // query_canceled (statement_timeout)
  '55P03', // lock_not_available (lock_timeout)
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);
const INVALID_STATES = new Set([
  '22P02', // invalid_text_representation (a malformed uuid)
  '22001', // string_data_right_truncation
  '22003', // numeric_value_out_of_range
  '22007', // invalid_datetime_format
  '22008', // datetime_field_overflow
  '22023', // invalid_parameter_value
  '23502', // not_null_violation
  '23514', // check_violation
]);

/**
 * Maps a driver error to a ControlPlaneError (the original stays as `cause`). Constraint names, not values,
 * go into messages, so a message never shows another tenant's data.
 */
export function classifyDriverError(err: unknown): ControlPlaneError {
  if (isControlPlaneError(err)) return err;
  const e = err as { code?: unknown; constraint?: unknown; message?: unknown };
  const state = typeof e.code === 'string' ? e.code : '';
  const constraint = typeof e.constraint === 'string' ? e.constraint : undefined;
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (state === '23505')
    return new ControlPlaneError('CP_CONFLICT', `already exists (${constraint ?? 'unique'})`, { cause: err });
  if (state === '23503') {
    return new ControlPlaneError(
      'CP_NOT_FOUND',
      `referenced row not found (${constraint ?? 'foreign key'})`,
      { cause: err },
    );
  }
  if (INVALID_STATES.has(state)) {
    return new ControlPlaneError(
      'CP_INVALID_ARGUMENT',
      constraint ? `invalid value (${constraint})` : message,
      { cause: err },
    );
  }
  if (UNAVAILABLE_STATES.has(state) || state.startsWith('08') || isConnectionError(err, message)) {
    return new ControlPlaneError('CP_DB_UNAVAILABLE', `database unavailable: ${message}`, { cause: err });
  }
  return new ControlPlaneError('CP_DB_ERROR', `database error: ${message}`, { cause: err });
}

function isConnectionError(err: unknown, message: string): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT…
  return /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error/i.test(
    message,
  );
}
