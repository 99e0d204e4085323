/**
 * The analytics store contract: inventories and findings per scan in ClickHouse, plus each image's
 * latest-scan summary for severity aggregation across the fleet. Declared here by its consumers (services,
 * REST); implemented by analytics/store.ts over the driver seam of analytics/driver.ts (chdb embedded, or a
 * ClickHouse server over HTTP).
 *
 * Visibility and idempotency: rows are written per (scanId, attempt) while a worker streams them and stay
 * invisible until `publishScan` makes that attempt the image's latest completed scan. A retried attempt writes
 * under a new attempt number, so a half-written attempt never shows and nothing is counted twice; publishing the
 * same (scanId, attempt) again is a no-op. Every call is scoped to one organisation.
 */
import type { AttemptCounter, AttemptCounts } from './attempt-counts.js';
import type { Finding, OsRelease, Package, Severity } from '@vigil/engine';
import type { ScanDiffPage, ScanDiffQuery } from './diff.js';
import type { AttemptRef } from './queries.js';

/** Counts by severity (`total` is their sum). */
export interface SeverityCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
  total: number;
}

/** What publishing a completed attempt needs. */
export interface PublishScan {
  scanId: string;
  attempt: number;
  digest: string;
  /** Every image of the org with this digest: each gets this scan as its latest. */
  imageIds: string[];
  completedAt: Date;
  os: OsRelease | null;
  /**
   * The attempt's counts, when whoever appended every row of it counted them on the way (a worker's report
   * stream: one per attempt; attempt-counts.ts). Publishing then stores them instead of counting the stored rows.
   */
  counted?: AttemptCounts;
  /**
   * Where the attempt's rows are and what they hold (`storeAttemptRows`): the attempt shows the findings and the
   * inventory of those attempts, and its content digests are recorded so a later rescan can reuse them. Without
   * it the attempt shows its own rows and records no digests.
   */
  contents?: AttemptContents;
}

/**
 * One kind of an attempt's rows (inventory or findings) as stored: `from` is the published attempt whose rows hold
 * them (the attempt itself when it wrote them), `digest` the content digest of those rows (rows.ts rowsDigest).
 */
export interface StoredRows {
  from: AttemptRef;
  digest: string;
  /** true when `from` is another attempt, whose identical rows this one shows instead of writing its own */
  reused: boolean;
}

/** An attempt's inventory and findings as `storeAttemptRows` stored them. */
export interface AttemptContents {
  packages: StoredRows;
  findings: StoredRows;
}

/** A published attempt's summary, computed from its rows. */
export interface ScanSummary {
  scanId: string;
  attempt: number;
  completedAt: Date;
  os: OsRelease | null;
  counts: SeverityCounts;
  /** findings with a fixed version */
  fixable: number;
  packages: number;
}

/** An image's latest completed scan as aggregated in the analytics store. */
export interface ImageScanSummary extends ScanSummary {
  imageId: string;
}

export interface FindingQuery {
  minSeverity?: Severity;
  fixable?: boolean;
  /** substring of the vulnerability id, an alias, the package name or the title (any case) */
  text?: string;
  /** severity (worst first) then id then package; 1..1000, default 100 */
  limit?: number;
  cursor?: string | null;
}

/** A listing of image summaries (scanned images only: an image never scanned has no summary). */
export interface ImageSummaryQuery {
  /**
   * `severity` (default): critical count, then high, medium, low, unknown; `lastScan`: completion time.
   * Ties by image id, in the same direction.
   */
  sort?: 'severity' | 'lastScan';
  /** default `desc`: worst / newest first */
  order?: 'asc' | 'desc';
  /** images with at least one finding of this severity or worse */
  minSeverity?: Severity;
  /** true: images with a fixable finding; false: images without one */
  fixable?: boolean;
  /** only these images (e.g. the ones a repository or text filter selected in the metadata store) */
  imageIds?: string[];
  /** 1..1000, default 50 */
  limit?: number;
  cursor?: string | null;
}

export interface ImageSummaryPage {
  summaries: ImageScanSummary[];
  nextCursor: string | null;
}

export interface FindingPage {
  findings: Finding[];
  nextCursor: string | null;
}

export interface VulnerableImagesPage {
  /** image id → its findings of the vulnerability (one per affected package); ordered by image id */
  images: Array<{ imageId: string; findings: Finding[] }>;
  nextCursor: string | null;
}

/** Rows of one attempt in a batch append (`AnalyticsStore.appendBatch`). */
export interface AttemptRows {
  scanId: string;
  attempt: number;
  packages?: readonly Package[];
  findings?: readonly Finding[];
  /** counts this part's rows once they are inserted (publish the attempt with them: `PublishScan.counted`) */
  counter?: AttemptCounter;
}

export interface AnalyticsStore {
  /** Creates or upgrades the schema (idempotent, numbered migrations). */
  migrate(): Promise<void>;
  /**
   * Optional batch form of appendInventory + appendFindings: several attempts' rows of one organisation in one
   * call, each part counted by its `counter` once inserted (ClickHouseAnalyticsStore; publish-batching.ts joins
   * concurrent calls). Callers fall back to the two single appends without it.
   */
  appendBatch?(orgId: string, batch: readonly AttemptRows[]): Promise<void>;
  /**
   * Optional batch form of publishScan: several attempts of one organisation in one statement, summaries in the
   * order given (ClickHouseAnalyticsStore; publish-batching.ts joins concurrent completions through it).
   */
  publishScans?(orgId: string, scans: readonly PublishScan[]): Promise<ScanSummary[]>;
  /**
   * Optional: stores ALL the rows of an attempt (none of them appended before) of an image with `digest`, where
   * each kind (inventory, findings) is written only when no published attempt of that digest in the org already
   * holds exactly the same rows; otherwise the attempt will show those (content addressing: a rescan of an
   * unchanged image under the same database writes no rows). The part's `counter` counts the rows either way.
   * Publish the attempt with the result (`PublishScan.contents`).
   */
  storeAttemptRows?(orgId: string, digest: string, rows: AttemptRows): Promise<AttemptContents>;
  /** Appends part of an attempt's inventory (invisible until published). */
  appendInventory(orgId: string, scanId: string, attempt: number, packages: Package[]): Promise<void>;
  /** Appends part of an attempt's findings (invisible until published). */
  appendFindings(orgId: string, scanId: string, attempt: number, findings: Finding[]): Promise<void>;
  /**
   * Makes the attempt the latest completed scan of `imageIds` and returns its summary (computed from the
   * attempt's rows; a finding or package appended twice to one attempt counts once). Idempotent; for an image
   * whose stored latest scan completed later, the stored one stays (the summary is still returned).
   */
  publishScan(orgId: string, scan: PublishScan): Promise<ScanSummary>;
  /** Latest summaries of the given images (missing: never scanned). */
  imageSummaries(orgId: string, imageIds: string[]): Promise<Map<string, ImageScanSummary>>;
  /** The org's image summaries sorted and filtered server-side, keyset-paginated. */
  listImageSummaries(orgId: string, query?: ImageSummaryQuery): Promise<ImageSummaryPage>;
  /** Totals over the latest completed scan of every image of the org (or of the given images). */
  summary(
    orgId: string,
    options?: { imageIds?: string[] },
  ): Promise<{ images: number; counts: SeverityCounts; fixable: number }>;
  /** Findings of the image's latest completed scan. */
  imageFindings(orgId: string, imageId: string, query?: FindingQuery): Promise<FindingPage>;
  /**
   * Images whose latest completed scan has a finding with this id or alias (any case), ordered by image id;
   * `limit` 1..1000, default 50. A cursor is valid only for the same vulnerability id.
   */
  vulnerableImages(
    orgId: string,
    vulnerabilityId: string,
    options?: { limit?: number; cursor?: string | null },
  ): Promise<VulnerableImagesPage>;
  /**
   * Findings of the published attempt `current` that `previous` did not have and those it no longer has, keyed by
   * vulnerability and package identity, with why each changed (see analytics/diff.ts); `previous` null: all new.
   */
  scanDiff(
    orgId: string,
    current: AttemptRef,
    previous: AttemptRef | null,
    query?: ScanDiffQuery,
  ): Promise<ScanDiffPage>;
  /**
   * Deletes the rows of attempts never published whose last row was written before `olderThan` (housekeeping,
   * across all orgs); resolves with the number of attempts deleted. Choose `olderThan` well before any live scan
   * could still publish (e.g. a day ago): an attempt published after its rows were deleted would show empty.
   */
  pruneUnpublished(olderThan: Date): Promise<number>;
  close(): Promise<void>;
}
