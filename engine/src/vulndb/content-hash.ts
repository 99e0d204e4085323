/**
 * The snapshot's version is a hash of its LOGICAL content, not of the file bytes: SQLite page
 * layout, build time and check times do not change it, so re-syncing unchanged upstream data
 * yields the same version.
 *
 * Per source and table: sha256 over the source's rows of that table, one JSON array per line,
 * rows sorted by their key columns and the JSON text (ties):
 *   v: [id, json]                                  vulnerabilities ORDER BY id
 *   a: [namespace, package, vuln_id, json]         affected ORDER BY namespace, package, vuln_id, json
 *   k: [cve, json]                                 kev ORDER BY cve
 *   e: [cve, score, percentile, date]              epss ORDER BY cve
 * Source content hash: sha256 of the text `v <hex>\na <hex>\nk <hex>\ne <hex>\n`.
 * Aliases are derived from the vulnerability JSON and are not hashed again; `affected.seq` is
 * storage, not content.
 * Snapshot version: sha256 of JSON `{"schemaVersion":N,"sources":[[name, feedVersion, contentHash]…]}`
 * with the sources that hold content, sorted by name. Checkpoints, counts of malformed or
 * withdrawn records, errors and times are excluded.
 *
 * The affected rows of all requested sources are hashed in ONE pass in the table's clustered order
 * (no sort of millions of rows per source).
 */
import { createHash, type Hash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { SourceMeta } from './types.js';

const PER_SOURCE = [
  ['v', 'SELECT id, json FROM vulnerabilities WHERE source = ? ORDER BY id'],
  ['k', 'SELECT cve, json FROM kev WHERE source = ? ORDER BY cve'],
  ['e', 'SELECT cve, score, percentile, date FROM epss WHERE source = ? ORDER BY cve'],
] as const;
const AFFECTED =
  'SELECT source, namespace, package, vuln_id, json FROM affected ORDER BY namespace, package, vuln_id, source, json';

function tableHash(db: Database, sql: string, source: string): string {
  const hash = createHash('sha256');
  for (const row of db.prepare(sql).raw().iterate(source) as IterableIterator<unknown[]>) {
    hash.update(JSON.stringify(row) + '\n');
  }
  return hash.digest('hex');
}

/** sha256 hex of each named source's rows (see the module comment for the exact definition). */
export function sourceContentHashes(db: Database, sources: Iterable<string>): Map<string, string> {
  const names = new Set(sources);
  const affected = new Map<string, Hash>([...names].map((n) => [n, createHash('sha256')]));
  const hasAffected = db.prepare('SELECT 1 FROM affected WHERE source = ? LIMIT 1').pluck();
  // one scan of the whole table, skipped when none of these sources has affected rows (KEV, EPSS, NVD)
  if ([...names].some((n) => hasAffected.get(n) !== undefined)) {
    for (const [source, ...row] of db.prepare(AFFECTED).raw().iterate() as IterableIterator<unknown[]>) {
      affected.get(source as string)?.update(JSON.stringify(row) + '\n');
    }
  }
  const out = new Map<string, string>();
  for (const name of names) {
    const parts = new Map(PER_SOURCE.map(([tag, sql]) => [tag, tableHash(db, sql, name)]));
    const text = `v ${parts.get('v')}\na ${affected.get(name)!.digest('hex')}\nk ${parts.get('k')}\ne ${parts.get('e')}\n`;
    out.set(name, createHash('sha256').update(text).digest('hex'));
  }
  return out;
}

/** The snapshot version from the per-source hashes (sources without a content hash are left out). */
export function snapshotVersion(schemaVersion: number, sources: readonly SourceMeta[]): string {
  const parts = sources
    .filter((s) => s.contentHash)
    .map((s) => [s.name, s.feedVersion, s.contentHash] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return createHash('sha256')
    .update(JSON.stringify({ schemaVersion, sources: parts }))
    .digest('hex');
}

/**
 * Recomputes every source's content hash and the version from the rows of an open snapshot.
 * @returns the recomputed version and the sources whose stored content hash differs
 */
export function recomputeVersion(
  db: Database,
  schemaVersion: number,
  sources: readonly SourceMeta[],
): { version: string; mismatched: string[] } {
  const hashes = sourceContentHashes(
    db,
    sources.filter((s) => s.contentHash).map((s) => s.name),
  );
  const mismatched: string[] = [];
  const recomputed = sources.map((s) => {
    const contentHash = hashes.get(s.name);
    if (!contentHash) return s;
    if (contentHash !== s.contentHash) mismatched.push(s.name);
    return { ...s, contentHash };
  });
  return { version: snapshotVersion(schemaVersion, recomputed), mismatched };
}
