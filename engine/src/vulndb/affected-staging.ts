/**
 * The writer's staging database for affected entries: a SQLite file next to the temporary
 * snapshot, attached to the writer's connection as `staging`, holding one entry per row while
 * sources are applied (apply-records.ts writes there). Appending is cheap whatever the order the
 * feeds deliver packages in; only the small (source, vuln_id) index takes random inserts. When the
 * writer finishes, one ordered pass packs the entries into the snapshot's `affected` table and
 * feeds the content hash; then the staging file is removed.
 *
 * A writer started from a base snapshot moves the base's packed entries into staging when it
 * first applies a source (the packed table is rebuilt whole at the end), so apply-records.ts sees
 * one entry per row whatever the file layout. While staging is attached it holds every entry.
 *
 * The staging file takes part in the writer's transactions (a source applies completely or not at
 * all in both databases); it is not fsync'ed: it never outlives the writer.
 */
import type { Database } from 'better-sqlite3';
import { rm } from 'node:fs/promises';
import { packedEntries, writePacked, type AffectedEntry } from './affected-pack.js';
import type { AffectedHasher } from './content-hash.js';
import { STAGING, STAGING_SQL } from './schema.js';

/** The staging file of a temporary snapshot path (removeStaleTemps knows the suffix). */
export const stagingPathFor = (temp: string): string => `${temp}-staging`;

const ORDERED = `SELECT namespace, package, vuln_id, source, json FROM ${STAGING}.affected_rows ORDER BY namespace, package, vuln_id, source, json`;

export class AffectedStaging {
  private constructor(
    private readonly db: Database,
    readonly path: string,
  ) {}

  /**
   * Attaches a new staging file at `path` (outside any transaction). With `basePath`, the open
   * snapshot's packed entries move into it and the packed table is emptied.
   * @throws ENG_DB_CORRUPT when a packed row of the base is unreadable
   */
  static attach(db: Database, path: string, cacheMiB: number, basePath?: string): AffectedStaging {
    db.prepare(`ATTACH DATABASE ? AS ${STAGING}`).run(path);
    const staging = new AffectedStaging(db, path);
    try {
      db.pragma(`${STAGING}.synchronous = OFF`);
      db.pragma(`${STAGING}.locking_mode = EXCLUSIVE`);
      db.pragma(`${STAGING}.cache_size = ${-1024 * cacheMiB}`);
      db.exec(STAGING_SQL);
      if (basePath !== undefined) staging.moveIn(basePath);
    } catch (e) {
      db.exec(`DETACH DATABASE ${STAGING}`);
      throw e;
    }
    return staging;
  }

  private moveIn(basePath: string): void {
    const insert = this.db.prepare(
      `INSERT INTO ${STAGING}.affected_rows (namespace, package, vuln_id, source, json) VALUES (?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      // packedEntries reads while this inserts into the other database: unsafe mode allows it
      this.db.unsafeMode(true);
      try {
        for (const e of packedEntries(this.db, basePath))
          insert.run(e.namespace, e.packageName, e.vulnId, e.source, e.json);
      } finally {
        this.db.unsafeMode(false);
      }
      this.db.exec('DELETE FROM affected; DELETE FROM affected_filter');
    })();
  }

  /** Entries of one source. */
  count(source: string): number {
    return this.db
      .prepare(`SELECT count(*) FROM ${STAGING}.affected_rows WHERE source = ?`)
      .pluck()
      .get(source) as number;
  }

  /**
   * Packs every entry into the (empty) `affected` table and its key filter, in one ordered pass
   * that also feeds `hasher`.
   * @returns the number of packed rows
   */
  pack(hasher: AffectedHasher): number {
    // the ORDER BY sorter keeps runs of up to the main cache size in memory: 16 MiB runs sort the
    // ~2M entries of a full feed set as fast as 64 MiB ones, with 50 MB less resident (sorter
    // helper threads did not help on 2 cores)
    const cache = this.db.pragma('cache_size', { simple: true }) as number;
    this.db.pragma('cache_size = -16384');
    const rows = this.db.prepare(ORDERED).raw().iterate() as IterableIterator<
      [string, string, string, string, string]
    >;
    function* entries(): Generator<AffectedEntry> {
      for (const [namespace, packageName, vulnId, source, json] of rows) {
        const e = { namespace, packageName, vulnId, source, json };
        hasher.add(e);
        yield e;
      }
    }
    this.db.unsafeMode(true);
    try {
      return this.db.transaction(() => writePacked(this.db, entries()))();
    } finally {
      rows.return?.(); // an exception left it open: close it, or the connection stays busy
      this.db.unsafeMode(false);
      this.db.pragma(`cache_size = ${cache}`);
    }
  }

  /** Detaches (when the connection is still open) and removes the staging file and its journal. */
  async remove(): Promise<void> {
    if (this.db.open) this.db.exec(`DETACH DATABASE ${STAGING}`);
    await rm(this.path, { force: true });
    await rm(`${this.path}-journal`, { force: true });
  }
}
