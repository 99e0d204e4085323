/**
 * The vulnerability snapshot: one immutable file (SQLite via better-sqlite3), built atomically,
 * versioned by the hash of its logical content, with per-source metadata.
 */
import type {
  AffectedPackage,
  EpssEntry,
  KevEntry,
  Namespace,
  Vulnerability,
} from '../model/vulnerability.js';
import type { FeedCheckpoint } from '../feeds/types.js';
import type { SchemeId } from '../versions/types.js';
import type { VulnSummary } from './summary.js';

export type { VulnSummary } from './summary.js';

/**
 * Layout version of the snapshot file. 5: an `affected` row keeps its open entries (every
 * version, no fix: tracker unfixed / will-not-fix records) apart from the others, whose
 * clear-above version it carries (affected-pack.ts). 4: `affected` rows carry their clear-above version
 * (clear-above.ts). 3: a `summaries` table, one row per id with what matching
 * reads of it. 2: `affected` packed one row per (namespace, package) with a key filter (1: one row
 * per entry). The content hash definition did not change.
 */
export const SNAPSHOT_SCHEMA_VERSION = 5;

export interface SourceMeta {
  name: string;
  feedVersion: number;
  /** when this source's content last changed in the snapshot (absent: it never delivered data) */
  updatedAt?: string;
  /** when this source was last checked (changed or not) */
  checkedAt: string;
  checkpoint?: FeedCheckpoint;
  counts: {
    vulnerabilities: number;
    affected: number;
    kev: number;
    epss: number;
    malformed: number;
    withdrawn: number;
  };
  /** the last failure, kept visible while the previous data stays in use */
  lastError?: string;
  /** sha256 hex of this source's logical content (rows in a fixed order); absent when it has none yet */
  contentHash?: string;
}

export interface SnapshotMeta {
  schemaVersion: number;
  /** content hash (sha256 hex) of the logical content: the snapshot's version */
  version: string;
  builtAt: string;
  sources: SourceMeta[];
}

/** Read side, used by matchers (one batched lookup per scan) and `db status`. */
export interface AdvisoryReader {
  meta(): SnapshotMeta;
  /** affected records for these (namespace, package name) keys, in one batch */
  affected(keys: readonly { namespace: Namespace; packageName: string }[]): AffectedPackage[];
  /**
   * `affected`, handed over key by key as the rows are read, so a caller that keeps few of them
   * lets the others go at once: `visit(i, rows)` for each key `keys[i]` that has rows, in key
   * order, with the rows `affected` gives for it; a key given more than once is handed over at
   * each of its positions (possibly the same row objects each time: callers do not modify them)
   */
  affectedEach(
    keys: readonly { namespace: Namespace; packageName: string }[],
    visit: (index: number, rows: AffectedPackage[]) => void,
    /**
     * offered a key's clear-above version (in a scheme) when the reader has one: true means no
     * entry of the key that has ranges or listed versions can apply to the caller; those are then
     * not handed over, only the key's open entries (no ranges, no versions: every version), when
     * it has any (a reader without such versions never asks)
     */
    skip?: (index: number, scheme: SchemeId, version: string) => boolean,
  ): void;
  /** every source's record for these ids, keyed by id */
  vulnerabilities(ids: readonly string[]): Map<string, { source: string; vulnerability: Vulnerability }[]>;
  /** ids linked to these ids by any source's alias lists, both directions (GHSA → CVE and CVE → GHSA) */
  aliases(ids: readonly string[]): Map<string, string[]>;
  kev(cveIds: readonly string[]): Map<string, KevEntry>;
  epss(cveIds: readonly string[]): Map<string, EpssEntry>;
  /**
   * What matching reads about these ids, one summary per id (records reduced to what findings
   * use, aliases both ways, KEV, EPSS: the answers of the four calls above in one); ids no table
   * knows are absent
   */
  summaries(ids: readonly string[]): Map<string, VulnSummary>;
  close(): void;
}
