/**
 * Metadata records and the store interfaces the services consume (declared here, by their consumer;
 * implemented at the edge by store/postgres, which runs on `pg` in the fleet and on embedded Postgres all-in-one).
 *
 * Tenant isolation by construction: every tenant-scoped operation takes the caller's `orgId` first and only
 * ever sees that organisation's rows. A foreign id behaves exactly like a missing one (null / CP_NOT_FOUND).
 * The only unscoped operations are the authentication entry points that *establish* the org
 * (`findLogin`, `verifyToken`) and `createOrg`.
 * Errors are ControlPlaneErrors: CP_INVALID_ARGUMENT, CP_NOT_FOUND, CP_CONFLICT, the scan codes, CP_DB_*.
 */

import type { Severity } from '@vigil/engine';
import type { ImageScanSummary } from '../analytics/types.js';

export type Role = 'admin' | 'member' | 'viewer';
export type TokenScope = 'ci' | 'read' | 'admin';
export type ScanStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
/**
 * Scheduling priority, highest first: manual > ci > scheduled > rematch. `rematch` is the queue level of rematch
 * batches (control-plane/src/rematch) and of the scans they record; users never choose it (USER_SCAN_PRIORITIES).
 */
export type ScanPriority = 'manual' | 'ci' | 'scheduled' | 'rematch';

export const ROLES: readonly Role[] = ['admin', 'member', 'viewer'];
export const TOKEN_SCOPES: readonly TokenScope[] = ['ci', 'read', 'admin'];
export const SCAN_STATUSES: readonly ScanStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];
export const SCAN_PRIORITIES: readonly ScanPriority[] = ['manual', 'ci', 'scheduled', 'rematch'];
/** The priorities a scan request may ask for. */
export const USER_SCAN_PRIORITIES: readonly ScanPriority[] = ['manual', 'ci', 'scheduled'];

/** One page of a keyset-paginated listing; `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface OrgRecord {
  id: string;
  slug: string;
  name: string;
  /** Entitlement: may this organisation scan. */
  scanningEnabled: boolean;
  createdAt: Date;
}

export interface UserRecord {
  id: string;
  orgId: string;
  email: string;
  displayName: string;
  role: Role;
  createdAt: Date;
  disabledAt: Date | null;
}

/** What a password login needs; `passwordHash` is the stored scrypt string or null (no password login). */
export interface LoginRecord {
  user: UserRecord;
  org: OrgRecord;
  passwordHash: string | null;
}

export interface TokenRecord {
  id: string;
  orgId: string;
  name: string;
  prefix: string;
  scopes: TokenScope[];
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** The caller behind a valid API token. */
export interface TokenPrincipal {
  token: TokenRecord;
  org: OrgRecord;
}

export interface OrgStore {
  /** Creates a tenant. CP_CONFLICT when the slug is taken, CP_INVALID_ARGUMENT for a bad slug or name. */
  createOrg(input: { slug: string; name: string; scanningEnabled?: boolean }): Promise<OrgRecord>;
  getOrg(orgId: string): Promise<OrgRecord | null>;
  /** Sets the entitlements. CP_NOT_FOUND for an unknown org. */
  setEntitlements(orgId: string, input: { scanningEnabled: boolean }): Promise<OrgRecord>;
  /** Email is stored lower-cased and unique across orgs (CP_CONFLICT). */
  createUser(
    orgId: string,
    input: { email: string; role: Role; displayName?: string; passwordHash?: string | null },
  ): Promise<UserRecord>;
  getUser(orgId: string, userId: string): Promise<UserRecord | null>;
  /** Users of the org ordered by email. */
  listUsers(orgId: string): Promise<UserRecord[]>;
  /** Changes a role. CP_LAST_ADMIN when that would leave the org without an active admin; CP_NOT_FOUND. */
  setUserRole(orgId: string, userId: string, role: Role): Promise<UserRecord>;
  setPasswordHash(orgId: string, userId: string, passwordHash: string | null): Promise<void>;
  /** Authentication entry point (unscoped): an active user by email (any case), with the org, or null. */
  findLogin(email: string): Promise<LoginRecord | null>;
  /** Stores a token by its sha256 hash (see store/credentials.ts). CP_NOT_FOUND for a foreign `createdBy`. */
  createToken(
    orgId: string,
    input: {
      name: string;
      scopes: TokenScope[];
      hash: string;
      prefix: string;
      createdBy?: string | null;
      expiresAt?: Date | null;
    },
  ): Promise<TokenRecord>;
  listTokens(orgId: string): Promise<TokenRecord[]>;
  /** Revokes a token (idempotent: a revoked token keeps its first revocation time). CP_NOT_FOUND. */
  revokeToken(orgId: string, tokenId: string): Promise<TokenRecord>;
  /**
   * Authentication entry point (unscoped): the live (not revoked, not expired) token with this hash and its
   * org, or null. Records `lastUsedAt` (at most once a minute per token, to keep reads cheap).
   */
  verifyToken(hash: string): Promise<TokenPrincipal | null>;
}

export interface ImageRecord {
  id: string;
  orgId: string;
  repositoryId: string;
  /** The repository name, e.g. `registry.example.com/team/app`. */
  repository: string;
  digest: string;
  /** Sorted; a tag names at most one image of a repository. */
  tags: string[];
  createdAt: Date;
  updatedAt: Date;
  lastScanId: string | null;
  lastCompletedScanId: string | null;
  lastCompletedAt: Date | null;
  /**
   * The latest completed scan's summary, recorded in the same transaction as that scan's completion
   * (null: never scanned). The same values the analytics store publishes for the image.
   */
  summary: ImageScanSummary | null;
}

/**
 * Images to list or to rescan in bulk. `text` matches repository name, digest or a tag (substring, any case).
 * `minSeverity` and `fixable` look at the latest completed scan (never-scanned images match neither).
 */
export interface ImageFilter {
  repositoryId?: string;
  text?: string;
  /** images with at least one finding of this severity or worse */
  minSeverity?: Severity;
  /** true: images with a fixable finding; false: scanned images without one */
  fixable?: boolean;
}

/**
 * `name`: repository then digest. `lastScan`: time of the newest completed scan, never-scanned lowest.
 * `severity`: critical count, then high, medium, low, unknown (never-scanned lowest), then id.
 */
export type ImageSort = 'name' | 'lastScan' | 'severity';

export interface ImageListQuery extends ImageFilter {
  sort?: ImageSort;
  order?: 'asc' | 'desc';
  /** 1..1000, default 50. */
  limit?: number;
  cursor?: string | null;
}

export interface ImageStore {
  /**
   * Records an image by repository and digest (creating the repository): an existing one gains the tags, and
   * the tags move away from other digests of the repository (a tag names one digest). Returns whether it was new.
   */
  upsertImage(
    orgId: string,
    input: { repository: string; digest: string; tags?: string[] },
  ): Promise<{ image: ImageRecord; created: boolean }>;
  getImage(orgId: string, imageId: string): Promise<ImageRecord | null>;
  /** Keyset pagination, stable under inserts: a row is never returned twice, and rows present throughout are never skipped. */
  listImages(orgId: string, query?: ImageListQuery): Promise<Page<ImageRecord>>;
  /** The org's images among `imageIds`, in the given order (foreign and unknown ids are left out). */
  getImages(orgId: string, imageIds: readonly string[]): Promise<ImageRecord[]>;
  /** Ids of the org's images with this digest (one scan serves them all), in id order. */
  imageIdsByDigest(orgId: string, digest: string): Promise<string[]>;
  /** Counts over the org's images matching `filter`, from the recorded summaries (never-scanned count as 0). */
  summarize(orgId: string, filter?: ImageFilter): Promise<ImageTotals>;
}

/** Totals of {@link ImageStore.summarize}: images, scanned images, findings by severity and fixable findings. */
export interface ImageTotals {
  images: number;
  scannedImages: number;
  counts: ImageScanSummary['counts'];
  fixable: number;
}

export interface ScanError {
  code: string;
  message: string;
}

export interface ScanRecord {
  id: string;
  orgId: string;
  imageId: string;
  digest: string;
  batchId: string | null;
  status: ScanStatus;
  priority: ScanPriority;
  forced: boolean;
  attempt: number;
  /** the snapshot the scan was scheduled against */
  dbVersion: string;
  /**
   * the snapshot its worker matched against (the report's started event; an upload's own database), which may
   * differ from `dbVersion` while workers follow a snapshot update; null until a report started
   */
  matchedDbVersion: string | null;
  error: ScanError | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

/** What a completion records on every image of the digest (the published analytics summary). */
export type ScanCompletionSummary = Pick<ImageScanSummary, 'counts' | 'fixable' | 'packages' | 'os'>;

/**
 * Status changes a worker or the scheduler reports. `running` starts attempt n+1 (from queued, or from running
 * when a job is redelivered after its worker died); with an explicit `attempt` (the queue's delivery count) it
 * claims exactly that attempt, which must be higher than the current one (else CP_SCAN_ATTEMPT_STALE).
 * `completed` finishes the given attempt and, with a `summary`, records it on every image of the digest in
 * the same transaction. `failed` finishes the given attempt, or without an attempt any queued or running scan
 * (a job that could not be delivered). `queued` puts a running scan whose current `attempt` showed no activity
 * since `idleBefore` back into the outbox (the stale-scan reaper), keeping its attempt count; an attempt active
 * since is CP_SCAN_TRANSITION_INVALID.
 */
export type ScanTransition =
  | { to: 'running'; attempt?: number }
  | { to: 'completed'; attempt: number; summary?: ScanCompletionSummary }
  | { to: 'failed'; attempt?: number; error: ScanError }
  | { to: 'queued'; attempt: number; idleBefore: Date };

export interface BatchRecord {
  id: string;
  orgId: string;
  priority: ScanPriority;
  dbVersion: string;
  forced: boolean;
  /** Image ids asked for (or images matched by a filter). */
  requested: number;
  /** Of those, images of this org. */
  matched: number;
  /** Scans created; matched − total images already had an active scan (or shared a digest). */
  total: number;
  counts: Record<ScanStatus, number>;
  createdAt: Date;
  cancelledAt: Date | null;
}

/** What a dispatcher publishes for a queued scan. */
export interface QueuedScan {
  id: string;
  imageId: string;
  digest: string;
  priority: ScanPriority;
  dbVersion: string;
  attempt: number;
  /** the image's repository name (the job's image reference is `<repository>@<digest>`) */
  repository: string;
  createdAt: Date;
}

/** A queued scan the dispatcher has not confirmed publishing (the outbox). */
export interface UnpublishedScan extends QueuedScan {
  orgId: string;
}

/**
 * Publishes a new batch's jobs while its scans are being inserted, before they commit (ScanStore.createBatch).
 * Resolves true when the queue stored every job; false or a rejection leaves the scans to the outbox (the batch is
 * created all the same).
 */
export type EarlyDispatch = (scans: UnpublishedScan[]) => Promise<boolean>;

export interface ScanStore {
  /**
   * Queues a scan of an image. Idempotent: while a scan of the same digest and DB version is queued or running,
   * that scan is returned (`created: false`, its priority raised to this request's if higher) unless `force`.
   * CP_NOT_FOUND when the image is not in the org.
   */
  createScan(
    orgId: string,
    input: {
      imageId: string;
      dbVersion: string;
      priority: ScanPriority;
      force?: boolean;
      /** an uploaded report: the scan starts `running` at attempt 1, outside the dedup and the outbox */
      upload?: boolean;
    },
  ): Promise<{ scan: ScanRecord; created: boolean }>;
  getScan(orgId: string, scanId: string): Promise<ScanRecord | null>;
  /**
   * Guarded status change (queued → running → completed | failed). CP_SCAN_TRANSITION_INVALID from any other
   * status, CP_SCAN_ATTEMPT_STALE when `attempt` is not the current one, CP_NOT_FOUND.
   * Completion makes the scan the latest completed one of every org image with its digest.
   */
  transitionScan(orgId: string, scanId: string, transition: ScanTransition): Promise<ScanRecord>;
  /**
   * Marks the report stream of `attempt` as started, recording the snapshot version its worker matches against
   * (empty or null: not said); true only for the first stream of the current attempt of a running scan (a second
   * stream of the same attempt would write its rows twice). CP_NOT_FOUND; CP_INVALID_ARGUMENT for a version over
   * 200 characters.
   */
  startReport(
    orgId: string,
    scanId: string,
    attempt: number,
    dbVersion?: string | null,
  ): Promise<{ started: boolean; scan: ScanRecord }>;
  /**
   * The completed scan of the same digest that finished last before the completed scan `scanId` (ties by id): what
   * a scan diff compares against. Null for the digest's first completed scan, and for a scan not completed.
   */
  previousCompletedScan(orgId: string, scanId: string): Promise<ScanRecord | null>;
  /** Cancels a queued or running scan; cancelling a cancelled scan is a no-op. CP_SCAN_TRANSITION_INVALID when finished. */
  cancelScan(orgId: string, scanId: string): Promise<{ scan: ScanRecord; previousStatus: ScanStatus }>;
  /**
   * A bulk rescan: one batch and its scans in ONE multi-row insert (one scan per digest; images with an active
   * scan of this DB version are skipped unless `force`). Images are given by id (foreign ids are not matched) or
   * by filter. CP_INVALID_ARGUMENT when neither or both are given. With `dispatch`, the jobs are published while
   * the scans are inserted, and the batch is recorded published in the same transaction when every job was
   * stored; a claim of such a job waits for the batch's commit (`findScan` with `awaitBatches`).
   */
  createBatch(
    orgId: string,
    input: {
      imageIds?: string[];
      filter?: ImageFilter;
      dbVersion: string;
      priority: ScanPriority;
      force?: boolean;
    },
    dispatch?: EarlyDispatch,
  ): Promise<BatchRecord>;
  getBatch(orgId: string, batchId: string): Promise<BatchRecord | null>;
  /** Queued scans of a batch in id order, after `afterId`, for chunked publishing. CP_NOT_FOUND for a foreign batch. */
  listQueuedScans(
    orgId: string,
    batchId: string,
    options?: { afterId?: string | null; limit?: number },
  ): Promise<QueuedScan[]>;
  /** Cancels every queued and running scan of a batch; returns them with their previous status (running ones need a cancel message). */
  cancelBatch(
    orgId: string,
    batchId: string,
  ): Promise<{ cancelled: Array<{ id: string; previousStatus: ScanStatus }> }>;
}

export type ActorType = 'user' | 'token' | 'system';

export interface AuditEntry {
  actor: { type: ActorType; id: string | null };
  /** Dotted lower-case verb, e.g. `user.create`, `token.revoke`, `org.entitlements.update`. */
  action: string;
  target?: { type: string; id: string } | null;
  details?: Record<string, unknown>;
}

export interface AuditRecord extends Required<AuditEntry> {
  id: string;
  orgId: string;
  at: Date;
}

export interface AuditStore {
  appendAudit(orgId: string, entry: AuditEntry): Promise<AuditRecord>;
  /** Newest first; `action` filters by exact action. */
  listAudit(
    orgId: string,
    query?: { action?: string; limit?: number; cursor?: string | null },
  ): Promise<Page<AuditRecord>>;
}

/**
 * System-level scan operations of the dispatcher and the worker service, which act for no organisation: the
 * publish outbox and lookups by scan id (workers and the queue know scans only by id). Never reachable from a
 * tenant's request.
 */
export interface ScanOutboxStore {
  /**
   * Queued scans whose publication is not confirmed, highest priority first, then oldest; only those created
   * before `createdBefore` when given (so scans being published by their request are left to it).
   */
  listUnpublished(options: { limit: number; createdBefore?: Date }): Promise<UnpublishedScan[]>;
  /** Records that the queue stored these scans' jobs; returns how many rows changed. */
  markPublished(scanIds: readonly string[]): Promise<number>;
  /**
   * Records that the queue stored the job of every queued, never-claimed scan of the batch with an id up to
   * `throughId` (the last id of a page of listQueuedScans, which reads in id order): one mark on the batch instead
   * of markPublished on each scan. Only raises the mark; returns whether the batch exists. Optional: without it
   * a batch's chunks are recorded with markPublished.
   */
  markBatchPublished?(orgId: string, batchId: string, throughId: string): Promise<boolean>;
  /**
   * Forgets every queued scan's publication, so the dispatch loop publishes them all again: for a queue that keeps
   * nothing across restarts (the all-in-one server's in-process queue). Returns how many scans it touched.
   */
  forgetPublished(): Promise<number>;
  /**
   * A scan by id, whatever its organisation (null when unknown or not a UUID). With `awaitBatches`, an unknown id
   * is looked up again once every bulk rescan being created has committed or rolled back: a worker's claim of a
   * job published before its scan committed (createBatch's `dispatch`) waits for it instead of dropping the job.
   */
  findScan(scanId: string, options?: { awaitBatches?: boolean }): Promise<ScanRecord | null>;
  /**
   * Records a sign of life of a running scan's attempt (its worker's report stream is open); false when the scan
   * is not running that attempt (finished, cancelled, superseded) or unknown.
   */
  recordActivity(scanId: string, attempt: number): Promise<boolean>;
  /**
   * Running scans whose current attempt showed no activity (claim, report start, recordActivity) since
   * `idleBefore`, longest idle first. Scans no worker runs (CLI uploads) are never listed.
   */
  listIdle(options: { idleBefore: Date; limit: number }): Promise<ScanRecord[]>;
}

/** Every metadata store, as the composition root hands them to services. */
export interface MetadataStores {
  orgs: OrgStore;
  images: ImageStore;
  scans: ScanStore;
  audit: AuditStore;
  outbox: ScanOutboxStore;
}
