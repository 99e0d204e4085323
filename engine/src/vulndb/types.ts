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

/**
 * Layout version of the snapshot file. 2: `affected` packed one row per (namespace, package) with
 * a key filter (1: one row per entry). The content hash definition did not change.
 */
export const SNAPSHOT_SCHEMA_VERSION = 2;

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
  /** every source's record for these ids, keyed by id */
  vulnerabilities(ids: readonly string[]): Map<string, { source: string; vulnerability: Vulnerability }[]>;
  /** ids linked to these ids by any source's alias lists, both directions (GHSA → CVE and CVE → GHSA) */
  aliases(ids: readonly string[]): Map<string, string[]>;
  kev(cveIds: readonly string[]): Map<string, KevEntry>;
  epss(cveIds: readonly string[]): Map<string, EpssEntry>;
  close(): void;
}
