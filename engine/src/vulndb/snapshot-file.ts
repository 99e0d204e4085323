/**
 * Opening and checking snapshot files: the identification pragmas, the meta and sources tables,
 * and the mapping of SQLite failures onto ENG_DB_* codes.
 */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { EngineError, isEngineError } from '../errors.js';
import { META_KEYS, SNAPSHOT_APPLICATION_ID } from './schema.js';
import { SNAPSHOT_SCHEMA_VERSION, type SnapshotMeta, type SourceMeta } from './types.js';

/** Runs `fn`, turning SQLite errors (not a database, malformed image, missing table) into ENG_DB_CORRUPT. */
export function guardSqlite<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isEngineError(e)) throw e;
    if (e instanceof Database.SqliteError || e instanceof SyntaxError)
      throw new EngineError('ENG_DB_CORRUPT', `${path} is not a readable Vigil snapshot: ${e.message}`, {
        cause: e,
      });
    throw e;
  }
}

/**
 * Checks that an open database is a Vigil snapshot of the schema this code reads.
 * @throws ENG_DB_CORRUPT (not SQLite, not a snapshot), ENG_DB_SCHEMA_UNSUPPORTED (other schema version)
 */
export function checkSnapshotHeader(db: Database.Database, path: string): void {
  guardSqlite(path, () => {
    if (db.pragma('application_id', { simple: true }) !== SNAPSHOT_APPLICATION_ID)
      throw new EngineError('ENG_DB_CORRUPT', `${path} is not a Vigil vulnerability snapshot`);
    const schema = db.pragma('user_version', { simple: true }) as number;
    if (schema !== SNAPSHOT_SCHEMA_VERSION)
      throw new EngineError(
        'ENG_DB_SCHEMA_UNSUPPORTED',
        `${path} has snapshot schema ${schema}; this Vigil reads schema ${SNAPSHOT_SCHEMA_VERSION}`,
      );
  });
}

/** The sources table. @throws ENG_DB_CORRUPT */
export function readSources(db: Database.Database, path: string): SourceMeta[] {
  return guardSqlite(path, () =>
    (db.prepare('SELECT json FROM sources ORDER BY name').pluck().all() as unknown[]).map((json) => {
      const s = JSON.parse(String(json)) as SourceMeta;
      const counts = s?.counts as unknown as Record<string, unknown> | undefined;
      if (
        typeof s?.name !== 'string' ||
        typeof s.feedVersion !== 'number' ||
        typeof s.checkedAt !== 'string' ||
        !COUNT_KEYS.every((k) => typeof counts?.[k] === 'number')
      )
        throw new EngineError('ENG_DB_CORRUPT', `${path}: a sources row is not a source description`);
      return s;
    }),
  );
}

const COUNT_KEYS = ['vulnerabilities', 'affected', 'kev', 'epss', 'malformed', 'withdrawn'] as const;

/** The snapshot metadata of an open, checked database. @throws ENG_DB_CORRUPT when incomplete */
export function readMeta(db: Database.Database, path: string): SnapshotMeta {
  return guardSqlite(path, () => {
    const rows = new Map(
      (db.prepare('SELECT key, value FROM meta').raw().all() as [string, string][]).map(([k, v]) => [k, v]),
    );
    const version = rows.get(META_KEYS.version);
    const builtAt = rows.get(META_KEYS.builtAt);
    if (!version || !builtAt || rows.get(META_KEYS.schemaVersion) !== String(SNAPSHOT_SCHEMA_VERSION))
      throw new EngineError(
        'ENG_DB_CORRUPT',
        `${path} has incomplete snapshot metadata (an unfinished build?)`,
      );
    return { schemaVersion: SNAPSHOT_SCHEMA_VERSION, version, builtAt, sources: readSources(db, path) };
  });
}

/**
 * Opens a snapshot file read-only and checks it.
 * @throws ENG_DB_NOT_FOUND (no such file), ENG_DB_CORRUPT, ENG_DB_SCHEMA_UNSUPPORTED
 */
export function openSnapshotDatabase(path: string): Database.Database {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (e) {
    throw new EngineError('ENG_DB_NOT_FOUND', `no vulnerability database at ${path}`, { cause: e });
  }
  if (!isFile) throw new EngineError('ENG_DB_CORRUPT', `${path} is not a file`);
  const db = guardSqlite(path, () => new Database(path, { readonly: true, fileMustExist: true }));
  try {
    checkSnapshotHeader(db, path);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
