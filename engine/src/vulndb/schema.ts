/**
 * The snapshot file layout (SQLite). One file, opened read-only by scans; written only by
 * SnapshotWriter into a temporary file that is renamed over the target when complete.
 *
 * Identification: `PRAGMA application_id` marks a Vigil snapshot, `PRAGMA user_version` holds
 * SNAPSHOT_SCHEMA_VERSION, and the `meta` table repeats both with the content version.
 */
import { SNAPSHOT_SCHEMA_VERSION } from './types.js';

/** `PRAGMA application_id` of every Vigil snapshot ("VGDB"). */
export const SNAPSHOT_APPLICATION_ID = 0x56474442;

/** Keys of the `meta` table. */
export const META_KEYS = {
  schemaVersion: 'schema_version',
  version: 'version',
  builtAt: 'built_at',
} as const;

/**
 * Tables:
 * - `meta(key, value)`: schema version, content version (hash), build time.
 * - `sources(name, json)`: one SourceMeta per feed (checkpoint, counts, times, last error, content hash).
 * - `vulnerabilities(id, source, json)`: what one source says about one id (a Vulnerability), unique per (id, source).
 * - `affected(namespace, package, vuln_id, source, seq, json)`: one AffectedPackage without its key
 *   columns, CLUSTERED by (namespace, package) (a WITHOUT ROWID table: the rows of one package are
 *   adjacent, a lookup is one B-tree descent plus a leaf scan); replaced by (source, vuln_id);
 *   `seq` only keeps two entries of one package in one record apart (not content).
 * - `aliases(alias, id, source)`: `id`'s record in `source` lists `alias`; indexed both ways.
 * - `kev(cve, source, json)`, `epss(cve, source, score, percentile, date)`: one row per CVE.
 * The `source` columns let a full re-sync of one feed replace exactly that feed's rows.
 */
export const SCHEMA_SQL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sources (name TEXT PRIMARY KEY, json TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE vulnerabilities (
  id TEXT NOT NULL, source TEXT NOT NULL, json TEXT NOT NULL,
  PRIMARY KEY (id, source)
);
CREATE INDEX vulnerabilities_by_source ON vulnerabilities (source, id);
CREATE TABLE affected (
  namespace TEXT NOT NULL, package TEXT NOT NULL, vuln_id TEXT NOT NULL, source TEXT NOT NULL,
  seq INTEGER NOT NULL, json TEXT NOT NULL,
  PRIMARY KEY (namespace, package, vuln_id, source, seq)
) WITHOUT ROWID;
CREATE INDEX affected_by_owner ON affected (source, vuln_id);
CREATE TABLE aliases (
  alias TEXT NOT NULL, id TEXT NOT NULL, source TEXT NOT NULL,
  PRIMARY KEY (alias, id, source)
) WITHOUT ROWID;
CREATE INDEX aliases_by_id ON aliases (id, source);
CREATE TABLE kev (cve TEXT PRIMARY KEY, source TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE epss (
  cve TEXT PRIMARY KEY, source TEXT NOT NULL, score REAL NOT NULL, percentile REAL NOT NULL,
  date TEXT NOT NULL
) WITHOUT ROWID;
PRAGMA application_id = ${SNAPSHOT_APPLICATION_ID};
PRAGMA user_version = ${SNAPSHOT_SCHEMA_VERSION};
`;
