/**
 * The snapshot's `summaries` table (summary.ts): one row per id, derived from the vulnerabilities,
 * aliases, kev and epss tables. The writer rebuilds it whole whenever a source changed, in ONE
 * ordered pass: the five tables are read in id order through their primary keys and indexes and
 * merged, so the build is sequential reads and appends, with memory bounded by one id's rows.
 * `verifySnapshot` recomputes the rows the same way and compares them with the stored ones.
 */
import type { Database } from 'better-sqlite3';
import type { EpssEntry, KevEntry, Vulnerability } from '../model/vulnerability.js';
import { cmpCodePoints } from './code-points.js';
import { summaryRow } from './summary.js';

type Row = [string, ...unknown[]];

/** An ordered cursor over rows whose first column is the id. */
class Cursor {
  head: Row | undefined;
  constructor(private readonly rows: IterableIterator<Row>) {
    this.advance();
  }
  advance(): void {
    const next = this.rows.next();
    this.head = next.done ? undefined : next.value;
  }
  /** The rows of `id` at the head, consumed. */
  take(id: string): Row[] {
    const out: Row[] = [];
    while (this.head !== undefined && this.head[0] === id) {
      out.push(this.head);
      this.advance();
    }
    return out;
  }
  close(): void {
    this.rows.return?.();
  }
}

// every query in id order (BINARY collation = code point order), served by a primary key or index
const QUERIES = [
  'SELECT id, source, json FROM vulnerabilities ORDER BY id, source',
  'SELECT id, alias FROM aliases ORDER BY id',
  'SELECT alias, id FROM aliases ORDER BY alias',
  'SELECT cve, json FROM kev ORDER BY cve',
  'SELECT cve, score, percentile, date FROM epss ORDER BY cve',
] as const;

/** Every summary row `[id, head, records]` in id order, computed from the content tables of `db`. */
export function* summaryRows(db: Database): Generator<[string, string, string]> {
  const cursors = QUERIES.map((sql) => new Cursor(db.prepare(sql).raw().iterate() as IterableIterator<Row>));
  const [vulns, aliasOf, aliasTo, kevs, epss] = cursors as [Cursor, Cursor, Cursor, Cursor, Cursor];
  try {
    for (;;) {
      let id: string | undefined;
      for (const c of cursors)
        if (c.head && (id === undefined || cmpCodePoints(c.head[0], id) < 0)) id = c.head[0];
      if (id === undefined) return;
      const records = vulns.take(id).map(([, source, json]) => ({
        source: source as string,
        vulnerability: JSON.parse(json as string) as Vulnerability,
      }));
      const linked = new Set<string>();
      for (const [, other] of aliasOf.take(id)) linked.add(other as string);
      for (const [, other] of aliasTo.take(id)) linked.add(other as string);
      linked.delete(id);
      const kev = kevs.take(id)[0];
      const score = epss.take(id)[0];
      const row = summaryRow(
        records,
        [...linked].sort(),
        kev && (JSON.parse(kev[1] as string) as KevEntry),
        score && ({ cveId: id, score: score[1], percentile: score[2], date: score[3] } as EpssEntry),
      );
      if (row) yield [id, row.head, row.records];
    }
  } finally {
    for (const c of cursors) c.close();
  }
}

/**
 * Replaces the `summaries` table with the rows the content tables give. Reads and writes on one
 * connection, so it runs in better-sqlite3's unsafe mode, inside one transaction.
 * @returns the number of summaries written
 */
export function writeSummaries(db: Database): number {
  const insert = db.prepare('INSERT INTO summaries (id, head, records) VALUES (?, ?, ?)');
  db.unsafeMode(true);
  try {
    return db.transaction(() => {
      db.exec('DELETE FROM summaries');
      let n = 0;
      for (const [id, head, records] of summaryRows(db)) {
        insert.run(id, head, records);
        n++;
      }
      return n;
    })();
  } finally {
    db.unsafeMode(false);
  }
}

/** True when the stored summaries are exactly the rows the content tables give. */
export function summariesMatch(db: Database): boolean {
  const stored = db
    .prepare('SELECT id, head, records FROM summaries ORDER BY id')
    .raw()
    .iterate() as IterableIterator<[string, string, string]>;
  try {
    for (const row of summaryRows(db)) {
      const s = stored.next();
      if (s.done || s.value.some((x, i) => x !== row[i])) return false;
    }
    return stored.next().done === true;
  } finally {
    stored.return?.();
  }
}
