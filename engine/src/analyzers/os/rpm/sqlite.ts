/**
 * rpm "sqlite" backend reader (`rpmdb.sqlite`, rpm ≥ 4.16: Fedora 33+, RHEL 9, CBL-Mariner...).
 *
 * Schema (rpm lib/backend/sqlite.c): `CREATE TABLE Packages (hnum INTEGER PRIMARY KEY
 * AUTOINCREMENT, blob BLOB NOT NULL)`, one header blob per row; the other tables are indexes.
 * The file is opened in memory from its bytes (better-sqlite3 deserialises a Buffer), read only.
 *
 * rpm keeps the database in WAL mode (header bytes 18-19 = 2). An in-memory database cannot
 * open a WAL-mode image, and the `-wal` side file is not part of what we read anyway (images are
 * built with the WAL checkpointed), so a copy of the bytes is switched to the rollback-journal
 * format (1, 1) before opening; this changes no content.
 */
import type Database from 'better-sqlite3';
import { lazyRequire } from '../../../lazy-require.js';
import type { DbRecord } from './db-record.js';

/** better-sqlite3 and its native addon load when an rpm sqlite database is read, not at start-up. */
const sqlite = lazyRequire<typeof Database>('better-sqlite3');

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** True when `head` starts with the SQLite 3 file magic. */
export function isSqlite(head: Buffer): boolean {
  return head.length >= 16 && head.subarray(0, 16).equals(SQLITE_MAGIC);
}

/**
 * Reads every header blob from the Packages table of an rpmdb.sqlite image.
 *
 * A file SQLite cannot open or read, or one without a Packages *table* (a view could run an
 * unbounded query), yields one problem; a row whose blob is not a BLOB yields a problem and the
 * walk goes on. The database is always closed. Never throws.
 */
export function* readSqlite(bytes: Buffer): Generator<DbRecord> {
  let db: Database.Database | undefined;
  try {
    let image = bytes;
    if (image.length >= 20 && (image[18] !== 1 || image[19] !== 1)) {
      image = Buffer.from(bytes);
      image[18] = 1;
      image[19] = 1;
    }
    db = new (sqlite())(image, { readonly: true });
    db.pragma('trusted_schema = OFF');
    const kind = db.prepare("SELECT type FROM sqlite_master WHERE name = 'Packages'").pluck().get();
    if (kind !== 'table') {
      yield { kind: 'problem', message: 'no Packages table' };
      return;
    }
    const rows = db.prepare('SELECT hnum, blob FROM Packages').raw().iterate() as IterableIterator<unknown[]>;
    for (const [hnum, blob] of rows) {
      const key = typeof hnum === 'number' ? hnum : -1;
      if (Buffer.isBuffer(blob)) yield { kind: 'blob', key, blob };
      else yield { kind: 'problem', message: `row ${String(hnum)}: blob is not a BLOB` };
    }
  } catch (error) {
    yield { kind: 'problem', message: `sqlite: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    db?.close();
  }
}
