/**
 * MemoryAdvisoryReader: an AdvisoryReader held in memory, loaded from FeedRecords — for tests
 * (hand-written advisory sets, real feed files parsed with the real feed parsers) and for callers
 * that match without a snapshot file (`vigil sbom`-style one-offs over a few feed files).
 *
 * It applies records with the snapshot's semantics (vulndb/apply-records.ts), so a reader loaded
 * from the same records answers exactly like a SnapshotReader built from them:
 * - an application is `full` (the source's previous rows are dropped first) or `delta`;
 * - the first `vulnerability` record of an id in an application replaces what the source said
 *   about the id; a repeat in the same application merges (its JSON wins, affected rows are added
 *   without exact duplicates, aliases joined);
 * - `withdrawn` removes the id's rows of that source; `kev` / `epss` keep the last record per CVE;
 * - `malformed` records, and records without an id / namespace / package name, are counted and skipped.
 * `affected` returns each key's rows sorted by (vulnId, source, JSON) in code point order, keys in
 * the order given, as SnapshotReader does. `meta().version` is a hash of the logical content
 * (per source: its rows in a fixed order), stable for equal content; it is the reader's own and is
 * not comparable with a snapshot file's version.
 */
import { createHash } from 'node:crypto';
import { snapshotVersion } from '../vulndb/content-hash.js';
import { feedRecords } from '../vulndb/feed-records.js';
import type { FeedIdentity } from '../vulndb/snapshot-writer.js';
import { decodeSummary, summaryRow } from '../vulndb/summary.js';
import {
  SNAPSHOT_SCHEMA_VERSION,
  type AdvisoryReader,
  type SnapshotMeta,
  type SourceMeta,
  type VulnSummary,
} from '../vulndb/types.js';
import type { Feed, FeedBody, FeedRecord } from '../feeds/types.js';
import type { Unknown } from '../model/unknown.js';
import type {
  AffectedPackage,
  EpssEntry,
  KevEntry,
  Namespace,
  Vulnerability,
} from '../model/vulnerability.js';
import { cmpCodePoints } from '../vulndb/code-points.js';
import { MemoryStore, type StoredRow } from './memory-store.js';

export interface MemoryReaderOptions {
  /** clock for builtAt and the sources' times (default: the real clock) */
  now?: () => Date;
}

export interface ApplyOptions {
  /** `full` (default): replace everything the source had; `delta`: upsert per id, withdraw ids */
  mode?: 'full' | 'delta';
  /** the feed version recorded in meta() (default 1) */
  feedVersion?: number;
}

export class MemoryAdvisoryReader implements AdvisoryReader {
  private readonly store = new MemoryStore();
  private readonly sourceMetas = new Map<string, SourceMeta>();
  private readonly now: () => Date;
  private builtAt: string;
  private cachedVersion: string | undefined;

  constructor(options: MemoryReaderOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.builtAt = this.now().toISOString();
  }

  /**
   * Applies one source's records (synchronous iterables: hand-written sets).
   * @returns the source's metadata after the application (totals, plus this application's
   *   malformed and withdrawn counts)
   */
  addRecords(source: string, records: Iterable<FeedRecord>, options: ApplyOptions = {}): SourceMeta {
    const app = this.begin(source, options);
    for (const record of records) this.store.apply(app, record);
    return this.end(source, options, app.counts);
  }

  /** Applies one source's records from an async stream (a feed's parse output). */
  async addRecordStream(
    source: string,
    records: AsyncIterable<FeedRecord>,
    options: ApplyOptions = {},
  ): Promise<SourceMeta> {
    const app = this.begin(source, options);
    for await (const record of records) this.store.apply(app, record);
    return this.end(source, options, app.counts);
  }

  /**
   * Parses `bodies` with the feed's own parser (its on-error policy applies per body) and applies
   * the records as the feed's source, in full mode unless told otherwise.
   * @returns the source's metadata and the bodies skipped (on-error `skip` feeds)
   * @throws ENG_DB_BUILD_FAILED when a body fails to parse and the feed's policy is `fail`; ENG_ABORTED
   */
  async addFeed(
    feed: Feed,
    bodies: readonly FeedBody[],
    options: Omit<ApplyOptions, 'feedVersion'> & { signal?: AbortSignal } = {},
  ): Promise<{ meta: SourceMeta; skipped: Unknown[] }> {
    const skipped: Unknown[] = [];
    const records = feedRecords(feed, bodies, { signal: options.signal, onSkipped: (u) => skipped.push(u) });
    const meta = await this.addRecordStream(feed.name, records, {
      mode: options.mode,
      feedVersion: (feed as FeedIdentity).version,
    });
    return { meta, skipped };
  }

  meta(): SnapshotMeta {
    this.cachedVersion ??= snapshotVersion(
      SNAPSHOT_SCHEMA_VERSION,
      this.sources().map((s) => ({ ...s, contentHash: this.contentHash(s.name) })),
    );
    return {
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      version: this.cachedVersion,
      builtAt: this.builtAt,
      sources: this.sources().map((s) => ({ ...s, contentHash: this.contentHash(s.name) })),
    };
  }

  affected(keys: readonly { namespace: Namespace; packageName: string }[]): AffectedPackage[] {
    const out: AffectedPackage[] = [];
    const seen = new Set<string>();
    this.affectedEach(keys, (i, rows) => {
      const k = `${keys[i]!.namespace}\u0000${keys[i]!.packageName}`;
      if (seen.has(k)) return;
      seen.add(k);
      for (const row of rows) out.push(row);
    });
    return out;
  }

  /** As SnapshotReader.affectedEach; this reader has no clear-above versions, so it never skips. */
  affectedEach(
    keys: readonly { namespace: Namespace; packageName: string }[],
    visit: (index: number, rows: AffectedPackage[]) => void,
  ): void {
    for (let i = 0; i < keys.length; i++) {
      const { namespace, packageName } = keys[i]!;
      const stored = this.store.rowsOf(`${namespace}\u0000${packageName}`);
      if (!stored?.length) continue;
      visit(
        i,
        sortedRows(stored).map((r) => ({
          vulnId: r.vulnId,
          source: r.source,
          namespace,
          packageName,
          ...(JSON.parse(r.json) as Omit<AffectedPackage, 'vulnId' | 'namespace' | 'packageName'>),
        })),
      );
    }
  }

  vulnerabilities(ids: readonly string[]): Map<string, { source: string; vulnerability: Vulnerability }[]> {
    const out = new Map<string, { source: string; vulnerability: Vulnerability }[]>();
    for (const id of new Set(ids)) {
      const bySource = this.store.vulns.get(id);
      if (!bySource?.size) continue;
      out.set(
        id,
        [...bySource.entries()]
          .sort((a, b) => cmpCodePoints(a[0], b[0]))
          .map(([source, json]) => ({ source, vulnerability: JSON.parse(json) as Vulnerability })),
      );
    }
    return out;
  }

  aliases(ids: readonly string[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const id of new Set(ids)) {
      const linked = new Set([...this.store.aliasesOf(id), ...this.store.idsAliasing(id)]);
      linked.delete(id);
      if (linked.size) out.set(id, [...linked].sort());
    }
    return out;
  }

  kev(cveIds: readonly string[]): Map<string, KevEntry> {
    const out = new Map<string, KevEntry>();
    for (const id of new Set(cveIds)) {
      const json = this.store.kevOf(id);
      if (json) out.set(id, JSON.parse(json) as KevEntry);
    }
    return out;
  }

  epss(cveIds: readonly string[]): Map<string, EpssEntry> {
    const out = new Map<string, EpssEntry>();
    for (const id of new Set(cveIds)) {
      const e = this.store.epssOf(id);
      if (e) out.set(id, { ...e });
    }
    return out;
  }

  summaries(ids: readonly string[]): Map<string, VulnSummary> {
    const records = this.vulnerabilities(ids);
    const aliases = this.aliases(ids);
    const kev = this.kev(ids);
    const epss = this.epss(ids);
    const out = new Map<string, VulnSummary>();
    for (const id of new Set(ids)) {
      // through the stored form, as a snapshot gives it
      const row = summaryRow(records.get(id) ?? [], aliases.get(id) ?? [], kev.get(id), epss.get(id));
      if (row) out.set(id, decodeSummary('the in-memory reader', id, row));
    }
    return out;
  }

  /** Nothing to release; kept for the AdvisoryReader contract. */
  close(): void {}

  private sources(): SourceMeta[] {
    return [...this.sourceMetas.values()]
      .sort((a, b) => cmpCodePoints(a.name, b.name))
      .map((s) => structuredClone(s));
  }

  private begin(source: string, options: ApplyOptions) {
    this.cachedVersion = undefined;
    if ((options.mode ?? 'full') === 'full') this.store.clearSource(source);
    return this.store.application(source, (options.mode ?? 'full') === 'full');
  }

  private end(
    source: string,
    options: ApplyOptions,
    counts: { malformed: number; withdrawn: number },
  ): SourceMeta {
    const at = this.now().toISOString();
    this.builtAt = at;
    const meta: SourceMeta = {
      name: source,
      feedVersion: options.feedVersion ?? this.sourceMetas.get(source)?.feedVersion ?? 1,
      updatedAt: at,
      checkedAt: at,
      counts: { ...this.store.totals(source), malformed: counts.malformed, withdrawn: counts.withdrawn },
    };
    this.sourceMetas.set(source, meta);
    return structuredClone(meta);
  }

  /** sha256 of a source's rows, one JSON line each, in a fixed order. */
  private contentHash(source: string): string {
    const hash = createHash('sha256');
    for (const line of this.store.contentLines(source)) hash.update(`${line}\n`);
    return hash.digest('hex');
  }
}

function sortedRows(rows: readonly StoredRow[]): StoredRow[] {
  return rows.length > 1
    ? [...rows].sort(
        (a, b) =>
          cmpCodePoints(a.vulnId, b.vulnId) ||
          cmpCodePoints(a.source, b.source) ||
          cmpCodePoints(a.json, b.json),
      )
    : [...rows];
}
