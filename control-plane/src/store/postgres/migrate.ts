/**
 * Schema migrations: numbered SQL files (`migrations/NNNN_name.sql`) applied in order, each in its own
 * transaction, recorded with a checksum in `schema_migrations`. Every migration transaction first takes a
 * transaction-scoped advisory lock, so control planes starting together apply each migration exactly once
 * (the others wait, then see it recorded and skip it). Re-running is a no-op.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ControlPlaneError, isControlPlaneError } from '../../errors.js';
import type { SqlClient, SqlDatabase } from './sql.js';

/** One numbered migration. `checksum` is the sha256 (hex) of `sql`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** What {@link migrate} did: versions applied by this call (ascending) and the schema version afterwards. */
export interface MigrateResult {
  applied: number[];
  current: number;
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Defaults to the files of {@link MIGRATIONS_DIR}. */
  migrations?: readonly Migration[];
  /** How long to wait for another control plane's migration (default 60,000 ms). */
  lockTimeoutMillis?: number;
}

/**
 * The shipped migrations. The path is relative to the package root, which is three levels above this module
 * both as source (src/store/postgres) and as build output (dist/store/postgres), so the SQL files need no copy.
 */
export const MIGRATIONS_DIR = fileURLToPath(
  new URL('../../../src/store/postgres/migrations/', import.meta.url),
);

/** The key of the migration advisory lock: an arbitrary constant shared by every Vigil control plane. */
export const MIGRATION_LOCK_KEY = 7_263_591_804_112_113n;
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/**
 * Reads `NNNN_name.sql` files from `dir` (other files are ignored), ordered by number.
 * Throws CP_DB_MIGRATION_INVALID for a `.sql` file with another name, a duplicate number, or a gap (numbers
 * must run 1, 2, 3, … so a lost file cannot go unnoticed).
 */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of names) {
    const m = FILE_NAME.exec(file);
    if (!m)
      throw new ControlPlaneError(
        'CP_DB_MIGRATION_INVALID',
        `migration file ${file} is not named NNNN_name.sql`,
      );
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    migrations.push({ version: Number(m[1]), name: m[2]!, sql, checksum: sha256(sql) });
  }
  migrations.forEach((mig, i) => {
    if (mig.version !== i + 1) {
      throw new ControlPlaneError(
        'CP_DB_MIGRATION_INVALID',
        `migration ${mig.version} (${mig.name}) found where ${i + 1} was expected: numbers must be unique and contiguous`,
      );
    }
  });
  return migrations;
}

/**
 * Brings the schema up to date. Resolves with the versions this call applied (empty when another caller or an
 * earlier run did the work). Rejects with CP_DB_MIGRATION_MODIFIED when an applied migration's checksum differs
 * from its file, CP_DB_MIGRATION_FAILED when a migration's SQL fails (that migration is rolled back; earlier
 * ones stay), CP_DB_UNAVAILABLE when the database or the lock cannot be had in time.
 * Versions recorded in the database but unknown here (a newer control plane migrated) are left alone.
 */
export async function migrate(db: SqlDatabase, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = options.migrations ?? (await loadMigrations());
  const lockTimeout = options.lockTimeoutMillis ?? 60_000;
  const locked = async <T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> =>
    db.transaction(async (tx) => {
      await tx.query(`SELECT set_config('lock_timeout', $1, true)`, [`${lockTimeout}ms`]);
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
      return fn(tx);
    });

  await locked((tx) =>
    tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`),
  );

  const applied: number[] = [];
  for (const mig of migrations) {
    const didApply = await locked(async (tx) => {
      const { rows } = await tx.query<{ checksum: string }>(
        'SELECT checksum FROM schema_migrations WHERE version = $1',
        [mig.version],
      );
      if (rows[0]) {
        if (rows[0].checksum !== mig.checksum) {
          throw new ControlPlaneError(
            'CP_DB_MIGRATION_MODIFIED',
            `migration ${mig.version} (${mig.name}) was applied with another content (checksum ${rows[0].checksum})`,
          );
        }
        return false;
      }
      try {
        await tx.exec(mig.sql);
      } catch (err) {
        const detail =
          isControlPlaneError(err) && err.cause instanceof Error ? err.cause.message : String(err);
        throw new ControlPlaneError(
          'CP_DB_MIGRATION_FAILED',
          `migration ${mig.version} (${mig.name}) failed: ${detail}`,
          {
            cause: err,
          },
        );
      }
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        mig.version,
        mig.name,
        mig.checksum,
      ]);
      return true;
    });
    if (didApply) applied.push(mig.version);
  }

  const { rows } = await db.query<{ current: number | null }>(
    'SELECT max(version) AS current FROM schema_migrations',
  );
  return { applied, current: rows[0]?.current ?? 0 };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
