/**
 * The snapshot's version is a hash of its LOGICAL content, not of the file bytes: SQLite page
 * layout, build time and check times do not change it, so re-syncing unchanged upstream data
 * yields the same version.
 *
 * Per source and table: sha256 over the source's rows of that table, one JSON array per line,
 * rows sorted by their key columns and the JSON text (ties):
 *   v: [id, json]                                  vulnerabilities ORDER BY id
 *   a: [namespace, package, vuln_id, json]         affected entries ORDER BY namespace, package, vuln_id, json
 *      (json: the AffectedPackage without vulnId, source, namespace and packageName, as
 *      JSON.stringify wrote it; the entries of one source, in SQLite BINARY order)
 *   k: [cve, json]                                 kev ORDER BY cve
 *   e: [cve, score, percentile, date]              epss ORDER BY cve
 * Source content hash: sha256 of the text `v <hex>\na <hex>\nk <hex>\ne <hex>\n`.
 * Aliases are derived from the vulnerability JSON and are not hashed again.
 * Snapshot version: sha256 of JSON `{"schemaVersion":N,"sources":[[name, feedVersion, contentHash]…]}`
 * with the sources that hold content, sorted by name. Checkpoints, counts of malformed or
 * withdrawn records, errors and times are excluded.
 *
 * Affected entries are hashed in ONE ordered pass over all of them (no sort per source): the
 * writer hashes them while it packs its staging table (in that order), a verification while it
 * reads the packed table (whose elements are stored in that order, their JSON restored exactly:
 * affected-pack.ts). The file layout enters the version only through schemaVersion.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { packedEntries, type AffectedEntry } from './affected-pack.js';
import type { SourceMeta } from './types.js';

const PER_SOURCE = [
  ['v', 'SELECT id, json FROM vulnerabilities WHERE source = ? ORDER BY id'],
  ['k', 'SELECT cve, json FROM kev WHERE source = ? ORDER BY cve'],
  ['e', 'SELECT cve, score, percentile, date FROM epss WHERE source = ? ORDER BY cve'],
] as const;

function tableHash(db: Database, sql: string, source: string): string {
  const hash = createHash('sha256');
  for (const row of db.prepare(sql).raw().iterate(source) as IterableIterator<unknown[]>) {
    hash.update(JSON.stringify(row) + '\n');
  }
  return hash.digest('hex');
}

/** The `a` digests of some sources, fed with affected entries in (namespace, package, vuln_id, source, json) order. */
export class AffectedHasher {
  private readonly hashes: Map<string, Hash>;

  constructor(sources: Iterable<string>) {
    this.hashes = new Map([...sources].map((n) => [n, createHash('sha256')]));
  }

  /** Entries of other sources are ignored. */
  add(e: AffectedEntry): void {
    this.hashes.get(e.source)?.update(JSON.stringify([e.namespace, e.packageName, e.vulnId, e.json]) + '\n');
  }

  /** hex digests per source (each may be taken once) */
  digests(): Map<string, string> {
    return new Map([...this.hashes].map(([name, hash]) => [name, hash.digest('hex')]));
  }
}

/**
 * sha256 hex of each named source's rows (see the module comment for the exact definition).
 * @param affected the `a` digest of each named source (AffectedHasher)
 */
export function sourceContentHashes(
  db: Database,
  sources: Iterable<string>,
  affected: ReadonlyMap<string, string>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of new Set(sources)) {
    const parts = new Map(PER_SOURCE.map(([tag, sql]) => [tag, tableHash(db, sql, name)]));
    const a = affected.get(name);
    if (a === undefined) throw new Error(`no affected digest for source ${name}`);
    const text = `v ${parts.get('v')}\na ${a}\nk ${parts.get('k')}\ne ${parts.get('e')}\n`;
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
 * @throws ENG_DB_CORRUPT when a packed affected row is unreadable
 */
export function recomputeVersion(
  db: Database,
  path: string,
  schemaVersion: number,
  sources: readonly SourceMeta[],
): { version: string; mismatched: string[] } {
  const names = sources.filter((s) => s.contentHash).map((s) => s.name);
  const hasher = new AffectedHasher(names);
  // one pass over the packed rows, skipped when none of these sources has affected rows
  if (names.length) for (const e of packedEntries(db, path)) hasher.add(e);
  const hashes = sourceContentHashes(db, names, hasher.digests());
  const mismatched: string[] = [];
  const recomputed = sources.map((s) => {
    const contentHash = hashes.get(s.name);
    if (!contentHash) return s;
    if (contentHash !== s.contentHash) mismatched.push(s.name);
    return { ...s, contentHash };
  });
  return { version: snapshotVersion(schemaVersion, recomputed), mismatched };
}
