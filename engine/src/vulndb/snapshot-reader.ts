/**
 * SnapshotReader: the read side of a snapshot file (AdvisoryReader). Opened read-only; lookups
 * are batched by the caller and run on statements prepared once per reader. `affected` returns
 * the rows of each key sorted by (vulnId, source, JSON), keys in the order given: equal content
 * reads the same whatever its build history.
 *
 * `affected` is the matcher's hot path (a scan's packages, most of them unknown to every feed):
 * a key the Bloom filter rules out costs a hash and no SQLite call; any other key is one index
 * probe returning the package's packed entries, turned into objects by ONE JSON.parse
 * (affected-pack.ts).
 */
import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type {
  AffectedPackage,
  EpssEntry,
  KevEntry,
  Namespace,
  Vulnerability,
} from '../model/vulnerability.js';
import { EngineError } from '../errors.js';
import { mergeOpen, readKeyFilter } from './affected-pack.js';
import type { KeyFilter } from './key-filter.js';
import { guardSqlite, openSnapshotDatabase, readMeta } from './snapshot-file.js';
import { decodeSummary, type VulnSummary } from './summary.js';
import type { SchemeId } from '../versions/types.js';
import type { AdvisoryReader, SnapshotMeta } from './types.js';

/** A packed element: the AffectedPackage without `namespace` and `packageName`. */
type PackedAffected = Omit<AffectedPackage, 'namespace' | 'packageName'> & Partial<AffectedPackage>;

/**
 * A stored packed row: clear-above scheme and version of its ranged entries (NULL when none), the
 * positions and JSON text of its open entries (NULL when none), the other entries' JSON text.
 */
type StoredRow = [SchemeId | null, string | null, string | null, string | null, string];

/** Largest memory map of the file (SQLite's own ceiling; it maps at most the file's size). */
const MMAP_BYTES = 0x7fff0000;

const unique = <T>(items: readonly T[]) => [...new Set(items)];

/**
 * Ids per summaries statement: a statement call costs several times an index probe, and 32k ids
 * (matching 100k packages) read 2.3x faster in batches of 256 than one by one.
 */
const SUMMARY_BATCH = 256;

export class SnapshotReader implements AdvisoryReader {
  private readonly metadata: SnapshotMeta;
  private readonly filter: KeyFilter;
  private readonly st: Record<
    'affected' | 'vulns' | 'aliasOf' | 'aliasTo' | 'kev' | 'epss' | 'summary',
    Statement
  >;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {
    this.metadata = readMeta(db, path);
    guardSqlite(path, () => {
      // keep the shared lock once taken: SQLite otherwise re-locks and re-validates its page cache
      // on every statement (10x the cost of a lookup). Snapshots are never written in place (a new
      // file is renamed over the path), so holding it blocks nobody.
      db.pragma('locking_mode = EXCLUSIVE');
      // scans look up scattered keys: a larger page cache than SQLite's 2 MiB default saves re-reads
      db.pragma('cache_size = -32768');
      // reads through a memory map instead of a read() per page: the file is immutable (a new
      // snapshot is renamed over the path, never written in place)
      db.pragma(`mmap_size = ${MMAP_BYTES}`);
      db.pragma('query_only = ON');
    });
    this.filter = guardSqlite(path, () => readKeyFilter(db, path));
    this.st = guardSqlite(path, () => ({
      affected: db
        .prepare(
          'SELECT clear_scheme, clear_above, open_at, open_rows, rows FROM affected WHERE namespace = ? AND package = ?',
        )
        .raw(),
      vulns: db.prepare('SELECT source, json FROM vulnerabilities WHERE id = ? ORDER BY source').raw(),
      aliasOf: db.prepare('SELECT DISTINCT alias FROM aliases WHERE id = ?').pluck(),
      aliasTo: db.prepare('SELECT DISTINCT id FROM aliases WHERE alias = ?').pluck(),
      kev: db.prepare('SELECT json FROM kev WHERE cve = ?').pluck(),
      epss: db.prepare('SELECT score, percentile, date FROM epss WHERE cve = ?').raw(),
      // a batch of ids a statement (SUMMARY_BATCH): one SQLite call instead of one per id
      summary: db
        .prepare('SELECT id, head, records FROM summaries WHERE id IN (SELECT value FROM json_each(?))')
        .raw(),
    }));
  }

  /**
   * Opens a snapshot read-only.
   * @throws ENG_DB_NOT_FOUND (no file), ENG_DB_CORRUPT (not a snapshot, damaged, unfinished),
   *   ENG_DB_SCHEMA_UNSUPPORTED (another schema version)
   */
  static open(path: string): SnapshotReader {
    const db = openSnapshotDatabase(path);
    try {
      return new SnapshotReader(db, path);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** Version, build time and per-source metadata (read once at open). */
  meta(): SnapshotMeta {
    return structuredClone(this.metadata);
  }

  /** Affected records for these keys, with `source` filled in; duplicate keys are looked up once. @throws ENG_DB_CORRUPT */
  affected(keys: readonly { namespace: Namespace; packageName: string }[]): AffectedPackage[] {
    const seen = new Set<string>();
    const out: AffectedPackage[] = [];
    guardSqlite(this.path, () => {
      for (const { namespace, packageName } of keys) {
        // most keys end at the filter; only the others need the duplicate check
        if (!this.filter.mayHave(namespace, packageName)) continue;
        const k = `${namespace}\u0000${packageName}`;
        if (seen.has(k)) continue;
        seen.add(k);
        const row = this.st.affected.get(namespace, packageName) as StoredRow | undefined;
        if (row === undefined) continue;
        for (const entry of this.decodeAll(namespace, packageName, row)) out.push(entry);
      }
    });
    return out;
  }

  /**
   * `affected`, handed over key by key as the rows are read: `visit(i, rows)` for each key
   * `keys[i]` that has rows, in key order. A key given more than once is handed over at each of
   * its positions: it is read and decoded once, and the same rows (the same array and objects:
   * callers do not modify them) are kept until its last position; nothing else is kept between
   * keys. With `skip`, a key whose row has a clear-above version (clear-above.ts) is first offered
   * to `skip(i, scheme, version)`, at each position: when it returns true the entries the version
   * covers (all but the open ones: affected-pack.ts) are not decoded (for that position) and not
   * handed over; the open entries, when the key has any, are. @throws ENG_DB_CORRUPT
   */
  affectedEach(
    keys: readonly { namespace: Namespace; packageName: string }[],
    visit: (index: number, rows: AffectedPackage[]) => void,
    skip?: (index: number, scheme: SchemeId, version: string) => boolean,
  ): void {
    guardSqlite(this.path, () => {
      // the keys the filter lets through, and how many positions each has (packages of one
      // source package share its key: a fifth of the Debian keys of a 100k-package inventory)
      const joined: (string | undefined)[] = new Array<string | undefined>(keys.length);
      const positions = new Map<string, number>();
      for (let i = 0; i < keys.length; i++) {
        const { namespace, packageName } = keys[i]!;
        if (!this.filter.mayHave(namespace, packageName)) continue;
        const k = `${namespace}\u0000${packageName}`;
        joined[i] = k;
        positions.set(k, (positions.get(k) ?? 0) + 1);
      }
      /** keys with positions still to come: their stored row, and its entries once decoded (all, open only) */
      const kept = new Map<
        string,
        { row: StoredRow | undefined; all?: AffectedPackage[]; open?: AffectedPackage[] }
      >();
      for (let i = 0; i < keys.length; i++) {
        const k = joined[i];
        if (k === undefined) continue;
        const { namespace, packageName } = keys[i]!;
        const left = positions.get(k)!;
        let shared = kept.get(k);
        if (!shared && left > 1) kept.set(k, (shared = { row: this.storedRow(namespace, packageName) }));
        if (shared) {
          if (left > 1) positions.set(k, left - 1);
          else kept.delete(k);
        }
        const row = shared ? shared.row : this.storedRow(namespace, packageName);
        if (row === undefined) continue;
        let rows: AffectedPackage[];
        if (skip && row[0] !== null && row[1] !== null && skip(i, row[0], row[1])) {
          // the ranged entries are clear: only the open ones (every version) can apply
          if (row[3] === null) continue;
          rows = shared?.open ?? this.decodeOpen(namespace, packageName, row);
          if (shared) shared.open = rows;
        } else {
          rows = shared?.all ?? this.decodeAll(namespace, packageName, row);
          if (shared) shared.all = rows;
        }
        if (rows.length) visit(i, rows);
      }
    });
  }

  /** A key's packed row (StoredRow), or undefined when the snapshot has none. */
  private storedRow(namespace: string, packageName: string): StoredRow | undefined {
    return this.st.affected.get(namespace, packageName) as StoredRow | undefined;
  }

  /** Every entry of a packed row, in the row's order (open entries merged back at their positions). @throws ENG_DB_CORRUPT */
  private decodeAll(namespace: string, packageName: string, row: StoredRow): AffectedPackage[] {
    const rest = this.decode(namespace, packageName, row[4]);
    if (row[2] === null && row[3] === null) return rest;
    const all = mergeOpen(rest, this.decodeOpen(namespace, packageName, row), row[2]);
    if (!all) throw this.corrupt(namespace, packageName);
    return all;
  }

  /** A packed row's open entries. @throws ENG_DB_CORRUPT */
  private decodeOpen(namespace: string, packageName: string, row: StoredRow): AffectedPackage[] {
    return this.decode(namespace, packageName, row[3] ?? 'null');
  }

  /** A packed row's entries as AffectedPackages (key columns assigned). @throws ENG_DB_CORRUPT */
  private decode(namespace: string, packageName: string, text: string): AffectedPackage[] {
    let list: PackedAffected[];
    try {
      list = JSON.parse(text) as PackedAffected[];
    } catch {
      throw this.corrupt(namespace, packageName);
    }
    if (!Array.isArray(list)) throw this.corrupt(namespace, packageName);
    for (const a of list) {
      if (typeof a !== 'object' || a === null) throw this.corrupt(namespace, packageName);
      // assigning onto the parsed object is cheaper than spreading it into a new one
      a.namespace = namespace;
      a.packageName = packageName;
    }
    return list as AffectedPackage[];
  }

  private corrupt(namespace: string, packageName: string): EngineError {
    return new EngineError(
      'ENG_DB_CORRUPT',
      `${this.path} is not a readable Vigil snapshot: the affected row of ${namespace} ${packageName} is not a list of entries`,
    );
  }

  /** Every source's record for these ids (ids without records are absent from the map). @throws ENG_DB_CORRUPT */
  vulnerabilities(ids: readonly string[]): Map<string, { source: string; vulnerability: Vulnerability }[]> {
    const out = new Map<string, { source: string; vulnerability: Vulnerability }[]>();
    guardSqlite(this.path, () => {
      for (const id of unique(ids)) {
        const rows = this.st.vulns.all(id) as [string, string][];
        if (rows.length)
          out.set(
            id,
            rows.map(([source, json]) => ({ source, vulnerability: JSON.parse(json) as Vulnerability })),
          );
      }
    });
    return out;
  }

  /** Ids linked to each id through any source's alias lists, both directions, sorted. @throws ENG_DB_CORRUPT */
  aliases(ids: readonly string[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    guardSqlite(this.path, () => {
      for (const id of unique(ids)) {
        const linked = new Set([
          ...(this.st.aliasOf.all(id) as string[]),
          ...(this.st.aliasTo.all(id) as string[]),
        ]);
        linked.delete(id);
        if (linked.size) out.set(id, [...linked].sort());
      }
    });
    return out;
  }

  /** KEV entries of these CVEs. @throws ENG_DB_CORRUPT */
  kev(cveIds: readonly string[]): Map<string, KevEntry> {
    const out = new Map<string, KevEntry>();
    guardSqlite(this.path, () => {
      for (const id of unique(cveIds)) {
        const json = this.st.kev.get(id) as string | undefined;
        if (json) out.set(id, JSON.parse(json) as KevEntry);
      }
    });
    return out;
  }

  /** EPSS scores of these CVEs. @throws ENG_DB_CORRUPT */
  epss(cveIds: readonly string[]): Map<string, EpssEntry> {
    const out = new Map<string, EpssEntry>();
    guardSqlite(this.path, () => {
      for (const cveId of unique(cveIds)) {
        const row = this.st.epss.get(cveId) as [number, number, string] | undefined;
        if (row) out.set(cveId, { cveId, score: row[0], percentile: row[1], date: row[2] });
      }
    });
    return out;
  }

  /**
   * What matching reads about these ids: one statement per SUMMARY_BATCH ids (an index probe
   * each), the records decoded when asked for (summary.ts). Ids are probed in sorted order,
   * neighbours in the index. @throws ENG_DB_CORRUPT
   */
  summaries(ids: readonly string[]): Map<string, VulnSummary> {
    const out = new Map<string, VulnSummary>();
    const sorted = unique(ids).sort();
    guardSqlite(this.path, () => {
      const batch = new Map<string, [string, string, string]>();
      for (let from = 0; from < sorted.length; from += SUMMARY_BATCH) {
        const chunk = sorted.slice(from, from + SUMMARY_BATCH);
        batch.clear();
        const rows = this.st.summary.all(JSON.stringify(chunk)) as [string, string, string][];
        for (let i = 0; i < rows.length; i++) batch.set(rows[i]![0], rows[i]!);
        // in id order, whatever order SQLite answered in
        for (const id of chunk) {
          const row = batch.get(id);
          if (row) out.set(id, decodeSummary(this.path, id, { head: row[1], records: row[2] }));
        }
      }
    });
    return out;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Opens a snapshot read-only (SnapshotReader.open). */
export function openSnapshot(path: string): SnapshotReader {
  return SnapshotReader.open(path);
}

/** Reads a snapshot's metadata and closes it. @throws like SnapshotReader.open */
export function readSnapshotMeta(path: string): SnapshotMeta {
  const reader = SnapshotReader.open(path);
  try {
    return reader.meta();
  } finally {
    reader.close();
  }
}
