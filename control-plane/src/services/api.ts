/**
 * The service layer the APIs call (REST gateway, public gRPC services, console). Declared here so the HTTP/gRPC
 * edge and the services can be built side by side; implemented by services/scans.ts and services/queries.ts,
 * wired in server.ts. Services take the caller's `orgId` (already authenticated and authorised by auth/) and an
 * `actor` for the audit log; they throw ControlPlaneErrors (CP_ codes) that the edges map to HTTP / gRPC status.
 */
import type { Finding, Severity } from '@vigil/engine';
import type { ScanDiffQuery } from '../analytics/diff.js';
import type { FindingQuery, ImageScanSummary, SeverityCounts } from '../analytics/types.js';
import type { ScanDiff } from './diff.js';
import type {
  ActorType,
  BatchRecord,
  ImageFilter,
  ImageRecord,
  Page,
  ScanPriority,
  ScanRecord,
  ScanStatus,
} from './types.js';

export interface Actor {
  type: ActorType;
  id: string | null;
}

/** An image with its latest completed scan's summary (null when never scanned). */
export interface ImageView extends ImageRecord {
  summary: ImageScanSummary | null;
}

export interface ImageViewFilter extends ImageFilter {
  /** images with at least one finding of this severity or worse */
  minSeverity?: Severity;
  /** true: images with a fixable finding; false: images without one */
  fixable?: boolean;
}

/** `severity`: critical count first, then high, medium, low, unknown (worst first by default). */
export type ImageViewSort = 'severity' | 'lastScan' | 'name';

export interface ImageViewQuery extends ImageViewFilter {
  sort?: ImageViewSort;
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string | null;
}

/** What to scan: an image already known by id, or a reference (`repo:tag`, `repo@digest`) to resolve and record. */
export type ScanTarget = { imageId: string } | { reference: string };

/** Events of one scan, for SSE (`GET /scans/{id}/events`) and gRPC WatchScan. The last one has a final status. */
export type ScanEvent =
  | { type: 'status'; scan: ScanRecord }
  | { type: 'progress'; scanId: string; stage: string; done: number; total: number };

export interface ScanService {
  /** Queues a scan (one per digest and DB version unless `force`); CP_ENTITLEMENT_DISABLED when scanning is off. */
  requestScan(
    orgId: string,
    input: { target: ScanTarget; priority: ScanPriority; force?: boolean },
    actor: Actor,
  ): Promise<{ scan: ScanRecord; created: boolean; image: ImageRecord }>;
  getScan(orgId: string, scanId: string): Promise<ScanRecord | null>;
  /** Cancels a queued or running scan (running: a cancel message reaches its worker). */
  cancelScan(orgId: string, scanId: string, actor: Actor): Promise<ScanRecord>;
  /** One batch, one multi-row insert, chunked publishing. CP_INVALID_ARGUMENT unless exactly one of ids/filter. */
  bulkScan(
    orgId: string,
    input: { imageIds?: string[]; filter?: ImageFilter; priority: ScanPriority; force?: boolean },
    actor: Actor,
  ): Promise<BatchRecord>;
  getBatch(orgId: string, batchId: string): Promise<BatchRecord | null>;
  cancelBatch(orgId: string, batchId: string, actor: Actor): Promise<BatchRecord>;
  /** Current status first, then every change until a final status or `signal` aborts. */
  watchScan(orgId: string, scanId: string, signal: AbortSignal): AsyncIterable<ScanEvent>;
  /**
   * A CLI upload (`vigil image … --server URL --token T` / `POST /reports`): a JSON report (schemaVersion 1)
   * recorded as a completed scan of the image it names. CP_INVALID_ARGUMENT for a malformed report.
   */
  ingestReport(
    orgId: string,
    report: unknown,
    actor: Actor,
  ): Promise<{ scan: ScanRecord; image: ImageRecord }>;
}

export interface QueryService {
  summary(
    orgId: string,
    filter?: ImageViewFilter,
  ): Promise<{ images: number; scannedImages: number; counts: SeverityCounts; fixable: number }>;
  listImages(orgId: string, query?: ImageViewQuery): Promise<Page<ImageView>>;
  getImage(orgId: string, imageId: string): Promise<ImageView | null>;
  /** Findings of the image's latest completed scan; `scanId` null when never scanned. CP_NOT_FOUND for a foreign image. */
  imageFindings(
    orgId: string,
    imageId: string,
    query?: FindingQuery,
  ): Promise<{ scanId: string | null; findings: Finding[]; nextCursor: string | null }>;
  /** "Which images have CVE-X": images whose latest completed scan has a finding with this id or alias. */
  vulnerableImages(
    orgId: string,
    vulnerabilityId: string,
    options?: { limit?: number; cursor?: string | null },
  ): Promise<Page<{ image: ImageView; findings: Finding[] }>>;
  /**
   * Findings of a completed scan that the previous completed scan of its digest did not have, and those resolved
   * (services/diff.ts). CP_NOT_FOUND for a foreign scan, CP_SCAN_NOT_COMPLETED for a scan not completed.
   */
  scanDiff(orgId: string, scanId: string, query?: ScanDiffQuery): Promise<ScanDiff>;
  /** The vulnerability database the control plane schedules against. */
  dbInfo(): Promise<{
    version: string;
    builtAt: Date | null;
    sources: Array<{ name: string; updatedAt: Date | null; records: number }>;
  }>;
}

export type { ScanStatus };
