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
 * - `affected(id, namespace, package, clear_scheme, clear_above, open_at, open_rows, rows)`: ONE
 *   row per (namespace, package), its AffectedPackage entries as JSON arrays in (vulnId, source,
 *   JSON) order (affected-pack.ts has the element format): `open_rows` the entries that apply to
 *   every version (no ranges, no listed versions; NULL when none) at the positions `open_at`,
 *   `rows` the others; unique index on (namespace, package): a lookup is one index probe and one
 *   row. `clear_above` (in scheme `clear_scheme`): the version above which none of the entries of
 *   `rows` applies, NULL when there is none (clear-above.ts; derived, before `rows` so reading it
 *   never touches a long row's overflow). A rowid table (not WITHOUT ROWID): a packed row of a
 *   few KiB stays on its leaf page (WITHOUT ROWID tables spill rows over ~1 KiB into overflow
 *   pages, 1.5× the file and 3× slower lookups at 4 KiB pages).
 * - `affected_filter(probes, bits)`: one row, a Bloom filter over the `affected` keys (key-filter.ts),
 *   so lookups of packages no feed mentions need no SQLite statement. Derived, not content.
 *   Writers keep the entries one per row in a staging database while they work and pack them
 *   when they finish (affected-staging.ts).
 * - `aliases(alias, id, source)`: `id`'s record in `source` lists `alias`; indexed both ways.
 * - `kev(cve, source, json)`, `epss(cve, source, score, percentile, date)`: one row per CVE.
 * - `summaries(id, head, records)`: one row per id any of the tables above knows, a VulnSummary
 *   as two JSON texts (head: aliases both ways, KEV, EPSS; records: every source's record reduced
 *   to what matching reads: summary.ts), so matching reads a vulnerability with one probe. Derived, not content: the writer rebuilds it
 *   whenever a source changed (summary-table.ts) and `verifySnapshot` checks it.
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
  id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, package TEXT NOT NULL,
  clear_scheme TEXT, clear_above TEXT, open_at TEXT, open_rows TEXT, rows TEXT NOT NULL
);
CREATE UNIQUE INDEX affected_by_key ON affected (namespace, package);
CREATE TABLE affected_filter (probes INTEGER NOT NULL, bits BLOB NOT NULL);
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
CREATE TABLE summaries (id TEXT PRIMARY KEY, head TEXT NOT NULL, records TEXT NOT NULL);
PRAGMA application_id = ${SNAPSHOT_APPLICATION_ID};
PRAGMA user_version = ${SNAPSHOT_SCHEMA_VERSION};
`;

/** Name under which a writer attaches its staging database. */
export const STAGING = 'staging';

/**
 * The writer's staging database (a file next to the temporary snapshot, removed when the writer
 * finishes): `affected_rows` holds one AffectedPackage per row while sources are applied (the v1
 * layout of `affected`, append-only), indexed by owner (source, vuln_id) for replacing an id.
 */
export const STAGING_SQL = `
CREATE TABLE ${STAGING}.affected_rows (
  namespace TEXT NOT NULL, package TEXT NOT NULL, vuln_id TEXT NOT NULL, source TEXT NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX ${STAGING}.affected_rows_by_owner ON affected_rows (source, vuln_id);
`;
