/**
 * The all-in-one server's metadata database: PGlite (Postgres compiled to WASM, in-process) behind the same
 * SqlDatabase seam as the fleet's `pg` pool (store/postgres/sql.ts), so migrations and every store family run
 * the same SQL on both. Differences handled here, once:
 * - PGlite is ONE connection. Its `transaction()` and `query()` share one mutex (PGlite's exclusive-transaction
 *   lock): a caller's statements wait while another caller's transaction is open, so nothing interleaves inside
 *   someone else's transaction. A statement issued on the outer database from inside a transaction callback would
 *   wait for that transaction, i.e. forever; the stores only use the `tx` client there, as they must with `pg`.
 * - Result values are parsed as `pg` parses them (int8 as a string, bytea as a Buffer), so stores see one shape.
 * - Driver errors carry SQLSTATE codes like `pg`'s and go through the same classifyDriverError; a closed or
 *   crashed database reads as CP_DB_UNAVAILABLE.
 * - A data directory belongs to one process: a lock file (`vigil.lock`, holding the pid) refuses a second opener
 *   while the first is alive (two PGlite instances on one directory corrupt it); a stale lock is taken over.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PGlite, types, type Results, type Transaction } from '@electric-sql/pglite';
import { ControlPlaneError } from '../../errors.js';
import { classifyDriverError, type SqlDatabase, type SqlResult } from '../postgres/sql.js';

/** Options of {@link openPgliteDatabase}. */
export interface PgliteDatabaseOptions {
  /** Directory of the database files (created if missing); omitted: in memory, gone on close. */
  dataDir?: string;
}

const LOCK_FILE = 'vigil.lock';
/** Data directories open in this process (the lock file's pid cannot tell two openers of one process apart). */
const openDirs = new Set<string>();

/** `pg`'s default parsing for the types where PGlite's differs. */
const PG_COMPATIBLE_PARSERS = {
  [types.INT8]: (value: string) => value,
  [types.BYTEA]: (value: string) => Buffer.from(value.slice(2), 'hex'),
};

/**
 * Opens (creating on first use) a PGlite database. Rejects with CP_DB_UNAVAILABLE when the data directory is
 * locked by another live process or PGlite cannot start.
 */
export async function openPgliteDatabase(options: PgliteDatabaseOptions = {}): Promise<SqlDatabase> {
  const { dataDir } = options;
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true });
    await takeLock(dataDir);
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dataDir, { parsers: PG_COMPATIBLE_PARSERS });
  } catch (err) {
    if (dataDir !== undefined) await releaseLock(dataDir);
    throw new ControlPlaneError('CP_DB_UNAVAILABLE', `embedded database failed to start: ${String(err)}`, {
      cause: err,
    });
  }
  let closed = false;
  const ensureOpen = (): void => {
    if (closed)
      throw new ControlPlaneError('CP_DB_UNAVAILABLE', 'database unavailable: the database is closed');
  };
  return {
    async query(text, values) {
      ensureOpen();
      return runQuery(pglite, text, values);
    },
    async exec(script) {
      ensureOpen();
      return runExec(pglite, script);
    },
    async transaction(fn) {
      ensureOpen();
      let failure: { err: unknown } | undefined;
      try {
        return await pglite.transaction(async (tx) => {
          try {
            return await fn({
              query: (text, values) => runQuery(tx, text, values),
              exec: (s) => runExec(tx, s),
            });
          } catch (err) {
            failure = { err };
            throw err;
          }
        });
      } catch (err) {
        // the callback's rejection is passed on as is (like pg); BEGIN/COMMIT/ROLLBACK failures are classified
        if (failure && err === failure.err) throw err;
        throw classifyDriverError(err);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pglite.close();
      if (dataDir !== undefined) await releaseLock(dataDir);
    },
  };
}

type Queryable = Pick<PGlite, 'query' | 'exec'> | Transaction;

async function runQuery<R>(
  queryable: Queryable,
  text: string,
  values?: readonly unknown[],
): Promise<SqlResult<R>> {
  let res: Results<R>;
  try {
    res = await queryable.query<R>(text, values as unknown[] | undefined);
  } catch (err) {
    throw classifyDriverError(err);
  }
  // the command tag's count, as pg's rowCount: rows affected by INSERT/UPDATE/DELETE, rows returned by SELECT
  return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
}

async function runExec(queryable: Queryable, script: string): Promise<void> {
  try {
    await queryable.exec(script);
  } catch (err) {
    throw classifyDriverError(err);
  }
}

async function takeLock(dataDir: string): Promise<void> {
  const key = resolve(dataDir);
  const inUse = (holder: number): ControlPlaneError =>
    new ControlPlaneError(
      'CP_DB_UNAVAILABLE',
      `database directory ${dataDir} is in use by process ${holder}; stop it first (one server per data directory)`,
    );
  if (openDirs.has(key)) throw inUse(process.pid);
  openDirs.add(key);
  try {
    const path = join(dataDir, LOCK_FILE);
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) throw inUse(holder);
    await writeFile(path, `${process.pid}\n`);
  } catch (err) {
    openDirs.delete(key);
    throw err;
  }
}

async function releaseLock(dataDir: string): Promise<void> {
  openDirs.delete(resolve(dataDir));
  await rm(join(dataDir, LOCK_FILE), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
