/**
 * Applies one source's FeedRecords to an open snapshot database (inside the writer's transaction).
 *
 * Semantics, per record:
 * - `vulnerability`: the first record of an id in this application replaces everything the source
 *   said about the id before (its vulnerability row, affected rows and aliases). A later record of the
 *   same id in the same application MERGES: its vulnerability JSON wins, its affected entries are
 *   added (exact duplicates dropped), its aliases joined. Trackers organised by package (Debian)
 *   list a CVE once per package, so a second record for an id is a part, not a replacement.
 * - `withdrawn`: removes the id's vulnerability, affected rows and aliases of this source.
 * - `kev` / `epss`: one row per CVE (the last record wins).
 * - `malformed`, and records whose shape is unusable (no id, no namespace…): counted, skipped.
 *
 * Affected entries go to the writer's staging table (`staging.affected_rows`, one entry per row);
 * the writer packs them into the snapshot's `affected` table when it finishes.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { FeedRecord } from '../feeds/types.js';
import type { AffectedPackage, Vulnerability } from '../model/vulnerability.js';
import { STAGING } from './schema.js';

/** What one application did. */
export interface ApplyCounts {
  vulnerabilities: number;
  affected: number;
  kev: number;
  epss: number;
  malformed: number;
  withdrawn: number;
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isScore = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The AffectedPackage fields not held in key columns, as stored (and hashed) per entry. */
function affectedJson(a: AffectedPackage): string {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { vulnId, source, namespace, packageName, ...rest } = a;
  return JSON.stringify(rest);
}

export class RecordApplier {
  readonly counts: ApplyCounts = {
    vulnerabilities: 0,
    affected: 0,
    kev: 0,
    epss: 0,
    malformed: 0,
    withdrawn: 0,
  };
  /** ids applied so far in this application (a repeat merges instead of replacing) */
  private readonly seen = new Set<string>();
  private readonly st: Record<
    | 'delVuln'
    | 'delAffected'
    | 'delAliases'
    | 'upsertVuln'
    | 'insAffected'
    | 'hasAffected'
    | 'insAlias'
    | 'upsertKev'
    | 'upsertEpss',
    Statement
  >;

  /**
   * @param cleared the source's rows were removed at the start of this application (full mode), so a
   *   first record of an id has nothing to replace
   */
  constructor(
    db: Database,
    private readonly source: string,
    private readonly cleared: boolean,
  ) {
    this.st = {
      delVuln: db.prepare('DELETE FROM vulnerabilities WHERE id = ? AND source = ?'),
      delAffected: db.prepare(`DELETE FROM ${STAGING}.affected_rows WHERE source = ? AND vuln_id = ?`),
      delAliases: db.prepare('DELETE FROM aliases WHERE id = ? AND source = ?'),
      upsertVuln: db.prepare(
        'INSERT INTO vulnerabilities (id, source, json) VALUES (?, ?, ?) ON CONFLICT (id, source) DO UPDATE SET json = excluded.json',
      ),
      insAffected: db.prepare(
        `INSERT INTO ${STAGING}.affected_rows (namespace, package, vuln_id, source, json) VALUES (?, ?, ?, ?, ?)`,
      ),
      hasAffected: db.prepare(
        `SELECT 1 FROM ${STAGING}.affected_rows WHERE source = ? AND vuln_id = ? AND namespace = ? AND package = ? AND json = ? LIMIT 1`,
      ),
      insAlias: db.prepare('INSERT OR IGNORE INTO aliases (alias, id, source) VALUES (?, ?, ?)'),
      upsertKev: db.prepare('INSERT OR REPLACE INTO kev (cve, source, json) VALUES (?, ?, ?)'),
      upsertEpss: db.prepare(
        'INSERT OR REPLACE INTO epss (cve, source, score, percentile, date) VALUES (?, ?, ?, ?, ?)',
      ),
    };
  }

  /** Removes every row of this source (start of a full application). */
  static clearSource(db: Database, source: string): void {
    for (const table of ['vulnerabilities', `${STAGING}.affected_rows`, 'aliases', 'kev', 'epss']) {
      db.prepare(`DELETE FROM ${table} WHERE source = ?`).run(source);
    }
  }

  apply(record: FeedRecord): void {
    switch (record?.type) {
      case 'vulnerability':
        return this.vulnerability(record.vulnerability, record.affected);
      case 'withdrawn':
        if (!isText(record.id)) return this.malformed();
        this.remove(record.id);
        // a later record of the id in this application starts afresh (nothing left to replace)
        this.seen.delete(record.id);
        this.counts.withdrawn++;
        return;
      case 'kev': {
        const e = record.entry;
        if (!isText(e?.cveId) || !isText(e.dateAdded)) return this.malformed();
        this.st.upsertKev.run(e.cveId, this.source, JSON.stringify(e));
        this.counts.kev++;
        return;
      }
      case 'epss': {
        const e = record.entry;
        if (!isText(e?.cveId) || !isScore(e.score) || !isScore(e.percentile) || typeof e.date !== 'string')
          return this.malformed();
        this.st.upsertEpss.run(e.cveId, this.source, e.score, e.percentile, e.date);
        this.counts.epss++;
        return;
      }
      default:
        return this.malformed();
    }
  }

  private malformed(): void {
    this.counts.malformed++;
  }

  private remove(id: string): void {
    this.st.delVuln.run(id, this.source);
    this.st.delAffected.run(this.source, id);
    this.st.delAliases.run(id, this.source);
  }

  private vulnerability(v: Vulnerability, affected: AffectedPackage[]): void {
    if (!isText(v?.id) || !Array.isArray(affected)) return this.malformed();
    const rows: [string, string, string][] = [];
    for (const a of affected) {
      if (!isText(a?.namespace) || !isText(a.packageName)) return this.malformed();
      rows.push([a.namespace, a.packageName, affectedJson(a)]);
    }
    const repeat = this.seen.has(v.id);
    if (!repeat) {
      this.seen.add(v.id);
      if (!this.cleared) this.remove(v.id);
    }
    this.st.upsertVuln.run(v.id, this.source, JSON.stringify(v));
    this.counts.vulnerabilities++;
    for (const alias of Array.isArray(v.aliases) ? v.aliases : []) {
      if (isText(alias) && alias !== v.id) this.st.insAlias.run(alias, v.id, this.source);
    }
    for (const [namespace, pkg, json] of rows) {
      if (repeat && this.st.hasAffected.get(this.source, v.id, namespace, pkg, json)) continue;
      this.st.insAffected.run(namespace, pkg, v.id, this.source, json);
      this.counts.affected++;
    }
  }
}
