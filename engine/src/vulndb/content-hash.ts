/**
 * The snapshot's version is a hash of its LOGICAL content, not of the file bytes: SQLite page
 * layout, build time and check times do not change it, so re-syncing unchanged upstream data
 * yields the same version.
 *
 * Per source: sha256 over its rows, one JSON array per row, tables in a fixed order, rows sorted
 * by their key columns (and the JSON text to break ties):
 *   ["v", id, json]                               vulnerabilities ORDER BY id
 *   ["a", vuln_id, namespace, package, json]      affected ORDER BY vuln_id, namespace, package, json
 *   ["k", cve, json]                              kev ORDER BY cve
 *   ["e", cve, score, percentile, date]           epss ORDER BY cve
 * Aliases are derived from the vulnerability JSON and are not hashed again.
 * Snapshot version: sha256 of JSON `{"schemaVersion":N,"sources":[[name, feedVersion, contentHash]…]}`
 * with the sources that hold content, sorted by name. Checkpoints, counts of malformed or
 * withdrawn records, errors and times are excluded.
 */
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { SourceMeta } from './types.js';

const QUERIES = [
  ['v', 'SELECT id, json FROM vulnerabilities WHERE source = ? ORDER BY id'],
  [
    'a',
    'SELECT vuln_id, namespace, package, json FROM affected WHERE source = ? ORDER BY vuln_id, namespace, package, json',
  ],
  ['k', 'SELECT cve, json FROM kev WHERE source = ? ORDER BY cve'],
  ['e', 'SELECT cve, score, percentile, date FROM epss WHERE source = ? ORDER BY cve'],
] as const;

/** sha256 hex of one source's rows (see the module comment for the exact definition). */
export function sourceContentHash(db: Database, source: string): string {
  const hash = createHash('sha256');
  for (const [tag, sql] of QUERIES) {
    for (const row of db.prepare(sql).raw().iterate(source) as IterableIterator<unknown[]>) {
      hash.update(JSON.stringify([tag, ...row]) + '\n');
    }
  }
  return hash.digest('hex');
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
  const mismatched: string[] = [];
  const recomputed = sources.map((s) => {
    if (!s.contentHash) return s;
    const contentHash = sourceContentHash(db, s.name);
    if (contentHash !== s.contentHash) mismatched.push(s.name);
    return { ...s, contentHash };
  });
  return { version: snapshotVersion(schemaVersion, recomputed), mismatched };
}
